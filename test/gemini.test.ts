// The Gemini adapter end to end: the official openai SDK talks to a real gateway whose provider
// has `kind: gemini` and points at the simulator's Gemini front end (which demands the API key),
// over real sockets. Every body the SDK receives is also checked against OpenAI's OpenAPI schemas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Ajv } from 'ajv';
import { encode } from 'gpt-tokenizer';
import { request } from 'undici';
import { configFrom, startStack, type Stack } from './support/stack.js';
import { assertMatchesSchema } from './support/openapi.js';
import { SIM_MODELS } from '../src/simulator/models.js';

const KEY = 'AIzaSimulatedGeminiKey';
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WEATHER: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { city: { type: 'string', minLength: 2 }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};

let stack: Stack;
let client: OpenAI;
const ajv = new Ajv({ strict: false });

const FAULTED: Record<string, string> = {
  limited: '429:47', // past the queue deadline: passed on, not waited out
  overloaded: '503',
  broken: '500',
  cut: 'cut:2',
  inband: 'error-event:2',
  blocked: 'refusal',
};

function stackConfig(simulatorUrl: string) {
  const gemini = simulatorUrl.replace(/\/v1$/, '');
  const card = (id: string, deployment: string, inputs?: string[]) => {
    const sim = SIM_MODELS.find((m) => m.id === id)!;
    return { deployments: [deployment], context_length: sim.context_length, input_modalities: inputs ?? sim.input_modalities };
  };
  return configFrom({
    providers: {
      gem: { kind: 'gemini', base_url: gemini, api_key: KEY },
      'gem-versioned': { kind: 'gemini', base_url: `${gemini}/v1beta`, api_key: KEY },
      'gem-bad-key': { kind: 'gemini', base_url: gemini, api_key: 'AIzaTheWrongKey' },
    },
    deployments: {
      'chat-g': { provider: 'gem', model: 'sim-chat' },
      'vision-g': { provider: 'gem', model: 'sim-vision' },
      'chat-images-g': { provider: 'gem', model: 'sim-chat' },
      'embed-g': { provider: 'gem', model: 'sim-embed' },
      'versioned-g': { provider: 'gem-versioned', model: 'sim-chat' },
      'bad-key-g': { provider: 'gem-bad-key', model: 'sim-chat' },
      ...Object.fromEntries(
        Object.entries(FAULTED).map(([name, fault]) => [`${name}-g`, { provider: 'gem', model: 'sim-chat', headers: { 'x-sim-fault': fault, 'x-sim-tokens': '40' } }]),
      ),
    },
    models: {
      'gemini-chat': card('sim-chat', 'chat-g'),
      'gemini-vision': card('sim-vision', 'vision-g'),
      // Claims images so the gateway lets them through and the upstream's own 400 is what answers.
      'gemini-chat-claims-images': card('sim-chat', 'chat-images-g', ['text', 'image']),
      'gemini-versioned': card('sim-chat', 'versioned-g'),
      'gemini-bad-key': card('sim-chat', 'bad-key-g'),
      'gemini-embed': { type: 'embedding', deployments: ['embed-g'], context_length: 8191 },
      ...Object.fromEntries(Object.keys(FAULTED).map((name) => [`gemini-${name}`, card('sim-chat', `${name}-g`)])),
    },
  });
}

before(async () => {
  stack = await startStack({ config: stackConfig, simulatorApiKey: KEY });
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
});
after(async () => stack.close());

async function rawStream(model: string, body: Record<string, unknown> = {}): Promise<{ status: number; events: string[] }> {
  const res = await request(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }], ...body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, events: text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, '')) };
}

describe('chat completions through a gemini provider', () => {
  test('non-streaming: content, usage that counts it, finish reason and the public model name', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-chat',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }],
    });
    assertMatchesSchema('CreateChatCompletionResponse', completion);
    assert.equal(completion.model, 'gemini-chat');
    const content = completion.choices[0]!.message.content!;
    assert.ok(content.length > 0);
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    assert.equal(completion.usage!.completion_tokens, encode(content).length);
    assert.equal(completion.usage!.total_tokens, completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
  });

  test('a base_url that already ends in /v1beta works the same', async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-versioned', messages: [{ role: 'user', content: 'Hi' }] });
    assert.ok(completion.choices[0]!.message.content!.length > 0);
  });

  test('max_tokens, stop and n reach Gemini as maxOutputTokens, stopSequences and candidateCount', async () => {
    const short = await client.chat.completions.create({ model: 'gemini-chat', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 });
    assert.equal(short.choices[0]!.finish_reason, 'length');
    assert.equal(short.usage!.completion_tokens, 5);
    const seeded = { model: 'gemini-chat', messages: [{ role: 'user' as const, content: 'Tell me something.' }], seed: 42 };
    const full = (await client.chat.completions.create(seeded)).choices[0]!.message.content!;
    const stop = full.split(' ')[2]!;
    const cut = await client.chat.completions.create({ ...seeded, stop: [stop] });
    assert.equal(cut.choices[0]!.message.content, full.slice(0, full.indexOf(stop)));
    const many = await client.chat.completions.create({ model: 'gemini-chat', messages: [{ role: 'user', content: 'Hi' }], n: 2 });
    assert.deepEqual(many.choices.map((c) => c.index), [0, 1]);
  });

  test('streaming with include_usage: valid chunks, role first, text that the usage counts', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-chat',
      messages: [{ role: 'user', content: 'Tell me a story.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let first: OpenAI.Chat.Completions.ChatCompletionChunk | undefined;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
      assert.equal(chunk.model, 'gemini-chat');
      first ??= chunk;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(first!.choices[0]!.delta.role, 'assistant');
    assert.equal(finish, 'stop');
    assert.ok(text.length > 0);
    assert.equal(usage!.completion_tokens, encode(text).length);
  });

  test('streaming without include_usage sends no usage chunk, and ends with [DONE]', async () => {
    const { status, events } = await rawStream('gemini-chat');
    assert.equal(status, 200);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as OpenAI.Chat.Completions.ChatCompletionChunk);
    assert.ok(chunks.every((c) => c.choices.length > 0 && c.usage === undefined));
  });
});

describe('tools', () => {
  test('a streamed tool call: id, name and JSON arguments valid against the schema, finish tool_calls', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-chat',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [WEATHER],
      tool_choice: 'required',
      stream: true,
    });
    const calls = new Map<number, { id?: string; name?: string; args: string }>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { args: '' };
        call.id ??= delta.id;
        call.name ??= delta.function?.name;
        call.args += delta.function?.arguments ?? '';
        calls.set(delta.index, call);
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    const call = calls.get(0)!;
    assert.match(call.id!, /^call_/);
    assert.equal(call.name, 'get_weather');
    assert.ok(ajv.validate(WEATHER.function.parameters!, JSON.parse(call.args)), ajv.errorsText());
  });

  test('a tool result round trip: the call id (carrying Gemini\'s thought signature) comes back and the model answers', async () => {
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.chat.completions.create({ model: 'gemini-chat', messages, tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    assertMatchesSchema('CreateChatCompletionResponse', first);
    const message = first.choices[0]!.message;
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(message.content, null);
    const call = message.tool_calls![0]!;
    assert.equal(call.type, 'function');
    messages.push(message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature: 21, sky: 'clear' }) });
    const second = await client.chat.completions.create({ model: 'gemini-chat', messages, tools: [WEATHER] });
    assert.equal(second.choices[0]!.finish_reason, 'stop');
    assert.ok(second.choices[0]!.message.content!.length > 0);
  });

  test('history from another model (a foreign tool call id, a plain-text result) is accepted too', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-chat',
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_from_elsewhere', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }] },
        { role: 'tool', tool_call_id: 'call_from_elsewhere', content: 'Sunny, 21 degrees.' },
      ],
    });
    assert.ok(completion.choices[0]!.message.content!.length > 0);
  });

  test('tool_choice none answers in words', async () => {
    const completion = await client.chat.completions.create({ model: 'gemini-chat', messages: [{ role: 'user', content: 'Hi' }], tools: [WEATHER], tool_choice: 'none' });
    assert.equal(completion.choices[0]!.message.tool_calls, undefined);
    assert.ok(completion.choices[0]!.message.content!.length > 0);
  });
});

describe('images and structured output', () => {
  test('a data URL and an https URL reach the vision model as inlineData and fileData', async () => {
    const text = await client.chat.completions.create({ model: 'gemini-vision', messages: [{ role: 'user', content: 'What is this?' }] });
    const image = await client.chat.completions.create({
      model: 'gemini-vision',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: PNG } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          ],
        },
      ],
    });
    assert.ok(image.choices[0]!.message.content!.length > 0);
    // The simulator bills 85 tokens per image it received.
    assert.ok(image.usage!.prompt_tokens >= text.usage!.prompt_tokens + 170);
  });

  test("an image to a text-only upstream model comes back as the upstream's 400", async () => {
    const error = await client.chat.completions
      .create({ model: 'gemini-chat-claims-images', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: PNG } }] }] })
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match(error.message, /Image input modality is not enabled/);
  });

  test('json_schema output is JSON valid against the schema (sent as responseJsonSchema)', async () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' }, steps: { type: 'array', items: { type: 'string' }, minItems: 1 } },
      required: ['title', 'steps'],
      additionalProperties: false,
    };
    const completion = await client.chat.completions.create({
      model: 'gemini-chat',
      messages: [{ role: 'user', content: 'A recipe, please.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'recipe', strict: true, schema } },
    });
    const parsed: unknown = JSON.parse(completion.choices[0]!.message.content!);
    assert.ok(ajv.validate(schema, parsed), ajv.errorsText());
    const object = await client.chat.completions.create({ model: 'gemini-chat', messages: [{ role: 'user', content: 'JSON please' }], response_format: { type: 'json_object' } });
    assert.equal(typeof JSON.parse(object.choices[0]!.message.content!), 'object');
  });
});

describe('errors', () => {
  test('429 RESOURCE_EXHAUSTED: a 429 whose Retry-After comes from RetryInfo.retryDelay', async () => {
    const error = await client.chat.completions.create({ model: 'gemini-limited', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.headers?.get('retry-after'), '47');
    assert.match(error.message, /limited-g/);
  });

  test('503 UNAVAILABLE -> 503; 500 INTERNAL -> 502', async () => {
    const overloaded = await client.chat.completions.create({ model: 'gemini-overloaded', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(overloaded instanceof OpenAI.APIError);
    assert.equal(overloaded.status, 503);
    assert.match(overloaded.message, /overloaded/);
    const broken = await client.chat.completions.create({ model: 'gemini-broken', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(broken instanceof OpenAI.APIError);
    assert.equal(broken.status, 502);
  });

  test("a key Gemini rejects (400 API_KEY_INVALID) is the gateway's problem: 502, not the caller's 400", async () => {
    const error = await client.chat.completions.create({ model: 'gemini-bad-key', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 502);
    assert.equal(error.code, 'upstream_auth_failed');
    assert.doesNotMatch(error.message, /AIza/);
  });

  test('a prompt Gemini blocks (promptFeedback.blockReason) is 400 content_policy_violation, streaming or not', async () => {
    const plain = await client.chat.completions.create({ model: 'gemini-blocked', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(plain instanceof OpenAI.BadRequestError);
    assert.equal(plain.code, 'content_policy_violation');
    assert.match(plain.message, /SAFETY/);
    const streamed = await rawStream('gemini-blocked');
    assert.equal(streamed.status, 400);
    assert.equal((JSON.parse(streamed.events[0]!) as { error: { code: string } }).error.code, 'content_policy_violation');
  });

  test('a stream cut before its finishReason ends with an error event and no [DONE]', async () => {
    const { status, events } = await rawStream('gemini-cut');
    assert.equal(status, 200);
    assert.ok(!events.includes('[DONE]'));
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as OpenAI.Chat.Completions.ChatCompletionChunk);
    assert.ok(chunks.some((c) => (c.choices[0]?.delta.content ?? '').length > 0), 'the text before the cut was relayed');
    const last = JSON.parse(events.at(-1)!) as { error: { type: string; code: string } };
    assert.equal(last.error.type, 'upstream_error');
  });

  test('an in-band {"error":...} event ends the stream with an error event and no [DONE]', async () => {
    const { status, events } = await rawStream('gemini-inband');
    assert.equal(status, 200);
    assert.ok(!events.includes('[DONE]'));
    const last = JSON.parse(events.at(-1)!) as { error: { type: string; message: string } };
    assert.equal(last.error.type, 'upstream_error');
    assert.match(last.error.message, /internal error/i);
  });
});

describe('embeddings through a gemini provider', () => {
  test('batchEmbedContents: one vector per input, dimensions honoured, base64 decodes to the same floats', async () => {
    const floats = await client.embeddings.create({ model: 'gemini-embed', input: ['red apple', 'green pear'], dimensions: 16, encoding_format: 'float' });
    assertMatchesSchema('CreateEmbeddingResponse', floats);
    assert.equal(floats.data.length, 2);
    assert.ok(floats.data.every((d) => d.embedding.length === 16));
    const encoded = await client.embeddings.create({ model: 'gemini-embed', input: 'red apple', dimensions: 16, encoding_format: 'base64' });
    const bytes = Buffer.from(encoded.data[0]!.embedding as unknown as string, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    assert.deepEqual(decoded, floats.data[0]!.embedding);
  });
});
