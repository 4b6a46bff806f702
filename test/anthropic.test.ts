// The gateway with an Anthropic provider (kind: anthropic) pointing at the simulator's Messages
// API, called with the official openai SDK over real sockets: the translation both ways, streams,
// tools, images, JSON output and every failure a client can see.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { encode } from 'gpt-tokenizer';
import { Ajv } from 'ajv';
import { request } from 'undici';
import { configFrom, startStack, type Stack } from './support/stack.js';
import { assertMatchesSchema } from './support/openapi.js';

const KEY = 'sk-ant-gateway-test-0001';
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/** One model per behaviour, each on its own deployment so a fault's cooldown touches nothing else. */
const FAULTS: Record<string, string> = {
  limited: '429:47', // past the queue deadline: passed on, not waited out
  overloaded: '529',
  cut: 'cut:5',
  'error-event': 'error-event:6',
  refusal: 'refusal',
};

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack({
    simulatorApiKey: KEY,
    config: (url) => {
      const deployment = (model: string, headers: Record<string, string> = {}, provider = 'claude') => ({ provider, model, headers });
      const chat = (dep: string, extra: Record<string, unknown> = {}) => ({ deployments: [dep], context_length: 16_384, ...extra });
      return configFrom({
        providers: {
          // The simulator's base URL ends in /v1; the adapter accepts that as well as a bare host.
          claude: { kind: 'anthropic', base_url: url, api_key: KEY },
          'claude-bare': { kind: 'anthropic', base_url: url.replace(/\/v1$/, ''), api_key: KEY },
          'claude-badkey': { kind: 'anthropic', base_url: url, api_key: 'sk-ant-wrong-key-0000' },
        },
        deployments: {
          'claude-chat': deployment('sim-chat'),
          'claude-bare-chat': deployment('sim-chat', {}, 'claude-bare'),
          'claude-vision': deployment('sim-vision'),
          'claude-blind': deployment('sim-chat'),
          'claude-badkey-chat': deployment('sim-chat', {}, 'claude-badkey'),
          // sim-small caps output at 1,024 tokens: the adapter's default of 4,096 would be refused.
          'claude-small': { ...deployment('sim-small'), default_max_tokens: 512 },
          ...Object.fromEntries(Object.entries(FAULTS).map(([name, fault]) => [`${name}-dep`, deployment('sim-chat', { 'x-sim-fault': fault })])),
        },
        // The fault tests fail on purpose; the retry budget must not run dry because of them.
        routing: { retry_budget: { min_retries: 1000 } },
        models: {
          claude: chat('claude-chat'),
          'claude-bare': chat('claude-bare-chat'),
          'claude-vision': chat('claude-vision', { context_length: 131_072, input_modalities: ['text', 'image'] }),
          // Claims images the upstream model cannot read: the upstream's 400 must reach the caller.
          'claude-blind': chat('claude-blind', { input_modalities: ['text', 'image'] }),
          'claude-badkey': chat('claude-badkey-chat'),
          'claude-small': { deployments: ['claude-small'], context_length: 4096 },
          ...Object.fromEntries(Object.keys(FAULTS).map((name) => [name, chat(`${name}-dep`)])),
          // Anthropic refuses with a 200 (stop_reason "refusal"): with a content-policy fallback
          // configured, the gateway routes around it.
          'refusal-guarded': chat('refusal-dep', { content_policy_fallbacks: ['claude'] }),
        },
      });
    },
  });
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
});
after(async () => stack.close());

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city', 'unit', 'days'],
    },
  },
};
const validArguments = new Ajv().compile(weatherTool.function.parameters!);

async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  const calls = new Map<number, { id?: string; name?: string; args: string }>();
  for await (const chunk of stream) {
    assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
    const choice = chunk.choices[0];
    text += choice?.delta.content ?? '';
    finish = choice?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
    for (const delta of choice?.delta.tool_calls ?? []) {
      const call = calls.get(delta.index) ?? { args: '' };
      call.id ??= delta.id;
      call.name ??= delta.function?.name;
      call.args += delta.function?.arguments ?? '';
      calls.set(delta.index, call);
    }
  }
  return { text, finish, usage, calls: [...calls.values()] };
}

/** A raw streaming call, to see the SSE bytes a client gets when the upstream breaks. */
async function rawStream(model: string): Promise<{ status: number; events: string[] }> {
  const res = await request(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, events: text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, '')) };
}

describe('answers through an Anthropic upstream', () => {
  test('a completion: content, usage counted from the text, the public model name, the deployment header', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }] })
      .withResponse();
    assertMatchesSchema('CreateChatCompletionResponse', data);
    assert.equal(data.model, 'claude');
    assert.match(data.id, /^chatcmpl-msg_01/);
    const choice = data.choices[0]!;
    assert.equal(choice.finish_reason, 'stop');
    assert.ok(choice.message.content!.length > 0);
    assert.equal(data.usage!.completion_tokens, encode(choice.message.content!).length);
    assert.ok(data.usage!.prompt_tokens > 0);
    assert.equal(data.usage!.total_tokens, data.usage!.prompt_tokens + data.usage!.completion_tokens);
    assert.equal(response.headers.get('x-floodgate-deployment'), 'claude-chat');
  });

  test('a base_url without /v1 reaches the same API', async () => {
    const data = await client.chat.completions.create({ model: 'claude-bare', messages: [{ role: 'user', content: 'Hi' }] });
    assert.ok(data.choices[0]!.message.content!.length > 0);
  });

  test('max_tokens gives finish_reason length; a stop sequence ends the text before it', async () => {
    const cut = await client.chat.completions.create({ model: 'claude', max_tokens: 3, messages: [{ role: 'user', content: 'Tell me a story.' }] });
    assert.equal(cut.choices[0]!.finish_reason, 'length');
    assert.equal(cut.usage!.completion_tokens, 3);
    const stopped = await client.chat.completions.create({ model: 'claude', stop: ['e'], messages: [{ role: 'user', content: 'Tell me a story.' }] });
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
    assert.ok(!stopped.choices[0]!.message.content!.includes('e'));
  });

  test('a text stream: role first, content deltas, finish stop, and usage only when asked', async () => {
    const withUsage = await collect(
      await client.chat.completions.create({ model: 'claude', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Tell me a story.' }] }),
    );
    assert.equal(withUsage.finish, 'stop');
    assert.ok(withUsage.text.length > 0);
    assert.ok(withUsage.usage, 'a usage chunk was relayed');
    assert.equal(withUsage.usage.completion_tokens, encode(withUsage.text).length);
    const without = await collect(await client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'Hi' }] }));
    assert.equal(without.usage, undefined);
    assert.ok(without.text.length > 0);
  });
});

describe('tools through an Anthropic upstream', () => {
  test('a tool call, then its result round-trips into a text answer', async () => {
    const first = await client.chat.completions.create({ model: 'claude', tools: [weatherTool], tool_choice: 'required', messages: [{ role: 'user', content: 'Weather in Oslo?' }] });
    assertMatchesSchema('CreateChatCompletionResponse', first);
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    const call = first.choices[0]!.message.tool_calls![0]!;
    assert.ok(call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.match(call.id, /^toolu_01/);
    assert.ok(validArguments(JSON.parse(call.function.arguments)), call.function.arguments);

    // Two parallel calls answered by two tool messages: the simulator, like Anthropic, rejects
    // results that are not all in the one user turn right after the tool_use turn.
    const second = { id: 'toolu_01second00000000000000000', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Bergen","unit":"celsius","days":1}' } };
    const answer = await client.chat.completions.create({
      model: 'claude',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Oslo and Bergen?' },
        { role: 'assistant', content: null, tool_calls: [call, second] },
        { role: 'tool', tool_call_id: call.id, content: '{"temperature": 12}' },
        { role: 'tool', tool_call_id: second.id, content: '{"temperature": 9}' },
      ],
    });
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
    assert.ok(answer.choices[0]!.message.content!.length > 0);
    assert.equal(answer.choices[0]!.message.tool_calls, undefined);
  });

  test('a streamed tool call: index, id and name first, then argument fragments that parse', async () => {
    const result = await collect(
      await client.chat.completions.create({ model: 'claude', stream: true, tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } }, messages: [{ role: 'user', content: 'Weather in Oslo?' }] }),
    );
    assert.equal(result.finish, 'tool_calls');
    assert.equal(result.calls.length, 1);
    assert.match(result.calls[0]!.id!, /^toolu_01/);
    assert.equal(result.calls[0]!.name, 'get_weather');
    assert.ok(validArguments(JSON.parse(result.calls[0]!.args)), result.calls[0]!.args);
  });

  test('response_format json_schema comes back as JSON content matching the schema, streamed or not', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' }, score: { type: 'integer', minimum: 0, maximum: 10 } }, required: ['answer', 'score'], additionalProperties: false };
    const format = { type: 'json_schema' as const, json_schema: { name: 'verdict', schema, strict: true } };
    const whole = await client.chat.completions.create({ model: 'claude', response_format: format, messages: [{ role: 'user', content: 'Rate this.' }] });
    assert.equal(whole.choices[0]!.finish_reason, 'stop');
    assert.equal(whole.choices[0]!.message.tool_calls, undefined);
    const validate = new Ajv().compile(schema);
    assert.ok(validate(JSON.parse(whole.choices[0]!.message.content!)), whole.choices[0]!.message.content!);
    const streamed = await collect(await client.chat.completions.create({ model: 'claude', stream: true, response_format: format, messages: [{ role: 'user', content: 'Rate this.' }] }));
    assert.equal(streamed.finish, 'stop');
    assert.equal(streamed.calls.length, 0);
    assert.ok(validate(JSON.parse(streamed.text)), streamed.text);
  });
});

describe('images through an Anthropic upstream', () => {
  test('a data URL and an https URL reach a vision model and are billed as input', async () => {
    const text = await client.chat.completions.create({ model: 'claude-vision', messages: [{ role: 'user', content: 'What is this?' }] });
    const withImages = await client.chat.completions.create({
      model: 'claude-vision',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: PNG } }, { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }] }],
    });
    assert.ok(withImages.choices[0]!.message.content!.length > 0);
    assert.equal(withImages.usage!.prompt_tokens, text.usage!.prompt_tokens + 2 * 85);
  });

  test("a text-only upstream model refuses an image: the upstream's 400 reaches the caller", async () => {
    const error = await client.chat.completions
      .create({ model: 'claude-blind', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: PNG } }] }] })
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match(error.message, /does not support image input/);
  });
});

describe('failures through an Anthropic upstream', () => {
  test('429 with Retry-After surfaces as a 429 with Retry-After', async () => {
    const error = await client.chat.completions.create({ model: 'limited', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'upstream_rate_limited');
    assert.ok(Number(error.headers.get('retry-after')) >= 1);
    assert.match(error.message, /limited-dep/);
  });

  test('529 overloaded becomes a 503 the caller may retry', async () => {
    const error = await client.chat.completions.create({ model: 'overloaded', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.InternalServerError);
    assert.equal(error.status, 503);
    assert.equal(error.code, 'upstream_unavailable');
    assert.match(error.message, /Overloaded/);
  });

  for (const [model, code] of [['cut', 'upstream_unreachable'], ['error-event', 'upstream_unavailable']] as const) {
    test(`${model} mid-stream: content first, then an error event and no [DONE]`, async () => {
      const reply = await rawStream(model);
      assert.equal(reply.status, 200);
      assert.ok(!reply.events.includes('[DONE]'));
      const chunks = reply.events.slice(0, -1).map((e) => JSON.parse(e) as OpenAI.ChatCompletionChunk);
      assert.ok(chunks.some((c) => (c.choices[0]?.delta.content ?? '').length > 0), 'text was relayed before the failure');
      const last = JSON.parse(reply.events.at(-1)!) as { error: { code: string; message: string } };
      assertMatchesSchema('ErrorResponse', last);
      assert.equal(last.error.code, code);
      assert.match(last.error.message, new RegExp(`${model}-dep`));
    });
  }

  test('a policy refusal ends the answer with finish_reason content_filter', async () => {
    const whole = await client.chat.completions.create({ model: 'refusal', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(whole.choices[0]!.finish_reason, 'content_filter');
    const streamed = await collect(await client.chat.completions.create({ model: 'refusal', stream: true, messages: [{ role: 'user', content: 'Hi' }] }));
    assert.equal(streamed.finish, 'content_filter');
  });

  test('n > 1 is a 400 naming n; a wrong key is the gateway\'s 502, never the key itself', async () => {
    const many = await client.chat.completions.create({ model: 'claude', n: 2, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    assert.ok(many instanceof OpenAI.BadRequestError);
    assert.equal(many.param, 'n');
    const denied = await client.chat.completions.create({ model: 'claude-badkey', messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    assert.ok(denied instanceof OpenAI.APIError);
    assert.equal(denied.status, 502);
    assert.equal(denied.code, 'upstream_auth_failed');
    assert.ok(!denied.message.includes('sk-ant'));
  });
});

test('a 200 refusal (stop_reason "refusal") goes to the content-policy fallback when one is configured', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'refusal-guarded', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
  assert.equal(data.model, 'claude');
  assert.equal(data.choices[0]!.finish_reason, 'stop');
  assert.ok(data.choices[0]!.message.content);
  assert.equal(response.headers.get('x-floodgate-rerouted'), 'content_policy');
  assert.equal(response.headers.get('x-floodgate-attempts'), '2');
});

test('a deployment\'s default_max_tokens is what Anthropic gets when the caller sets none', async () => {
  const reply = await client.chat.completions.create({ model: 'claude-small', messages: [{ role: 'user', content: 'hi' }] });
  assert.ok(reply.choices[0]!.message.content);
});
