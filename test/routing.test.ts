// Capability-aware rerouting, keep-alive while the first token is awaited, and what a client
// disconnect does, end to end: the simulator as upstream, the official openai SDK and the Vercel
// AI SDK as clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { streamText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { request } from 'undici';
import { configFrom, startStack, type Stack } from './support/stack.js';
import { assertMatchesSchema } from './support/openapi.js';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const imageMessage: OpenAI.ChatCompletionMessageParam = {
  role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: PNG } }],
};
/** About 6,000 tokens: too long for sim-small (4k), fine for sim-chat (16k). */
const longPrompt = 'the quick brown fox jumps over the lazy dog '.repeat(660);
const weather: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('the default configuration (a fresh npm start)', () => {
  let stack: Stack;
  let client: OpenAI;
  before(async () => {
    stack = await startStack();
    client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
  });
  after(async () => stack.close());

  test('an image sent to the text-only sim-chat is answered by sim-vision, and the response says so', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'sim-chat', messages: [imageMessage] }).withResponse();
    assert.equal(data.model, 'sim-vision');
    assert.ok(data.choices[0]!.message.content);
    assert.equal(response.headers.get('x-floodgate-rerouted'), 'vision');
    assert.equal(response.headers.get('x-floodgate-model'), 'sim-vision');
    assertMatchesSchema('CreateChatCompletionResponse', data);
  });

  test('a prompt too long for sim-small goes to the closest bigger window, streaming too', async () => {
    const stream = await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: longPrompt }], stream: true, stream_options: { include_usage: true } }).withResponse();
    assert.equal(stream.response.headers.get('x-floodgate-rerouted'), 'context');
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream.data) {
      assert.equal(chunk.model, 'sim-chat', 'sim-chat is the smallest window that fits');
      text += chunk.choices[0]?.delta.content ?? '';
      usage ??= chunk.usage;
    }
    assert.ok(text.length > 0);
    assert.ok(usage!.prompt_tokens > 4096, `the prompt really was too long for sim-small: ${usage!.prompt_tokens}`);
  });

  test('a request no model can hold is refused before any upstream call, naming the numbers', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: longPrompt }], max_tokens: 200_000 }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.equal(error.code, 'context_length_exceeded');
        assert.match(error.message, /'sim-small' has too small a context window.*about \d+ tokens, plus 200000 reserved for output, against a window of 4096.*No configured model can serve this request/);
        return true;
      },
    );
  });

  test('a short prompt stays on the model it named, with no reroute header', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(data.model, 'sim-small');
    assert.equal(response.headers.get('x-floodgate-rerouted'), null);
    assert.equal(response.headers.get('x-floodgate-attempts'), '1');
  });
});

describe('reroute policies from configuration', () => {
  let stack: Stack;
  let client: OpenAI;
  before(async () => {
    stack = await startStack({
      config: (url) =>
        configFrom({
          providers: { sim: { base_url: url } },
          deployments: {
            chat: { provider: 'sim', model: 'sim-chat' },
            vision: { provider: 'sim', model: 'sim-vision' },
            small: { provider: 'sim', model: 'sim-small' },
          },
          models: {
            // Claims a bigger window than its upstream has: our count says a prompt fits, the upstream disagrees.
            overclaimed: { deployments: ['small'], context_length: 16384 },
            // A model without tools or structured outputs, with a named target for tools only.
            plain: { deployments: ['chat'], supported_parameters: ['max_tokens', 'temperature'], reroute: { tools: 'agent' } },
            agent: { deployments: ['chat'], context_length: 16384 },
            'strict-plain': { deployments: ['chat'], supported_parameters: ['max_tokens'], reroute: 'off' },
            eyes: { deployments: ['vision'], input_modalities: ['text', 'image'], context_length: 131072 },
          },
        }),
    });
    client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
  });
  after(async () => stack.close());

  test('tools sent to a model without tools go to its named target', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'plain', messages: [{ role: 'user', content: 'weather in Paris?' }], tools: [weather], tool_choice: 'required' })
      .withResponse();
    assert.equal(response.headers.get('x-floodgate-rerouted'), 'tools');
    assert.equal(data.model, 'agent');
    assert.equal(data.choices[0]!.message.tool_calls![0]!.type, 'function');
  });

  test('a map without an entry for the reason refuses with the capable models named', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'plain',
        messages: [{ role: 'user', content: 'json please' }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.equal(error.code, 'json_schema_not_supported');
        assert.equal(error.param, 'response_format');
        assert.match(error.message, /Models that support it: overclaimed, agent, eyes\./);
        return true;
      },
    );
  });

  test('an upstream that finds the prompt too long after all: the request goes to a bigger model', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'overclaimed', messages: [{ role: 'user', content: longPrompt }] })
      .withResponse();
    assert.equal(data.model, 'eyes', 'the only capable model with a bigger window');
    assert.equal(response.headers.get('x-floodgate-rerouted'), 'context');
    assert.equal(response.headers.get('x-floodgate-attempts'), '2');
  });

  test('reroute: off refuses, and no upstream call is made', async () => {
    const metrics = async () => (await (await request(`${stack.gateway.url}/metrics`)).body.text()).match(/floodgate_upstream_requests_total\{[^}]*\} \d+/g)?.join() ?? '';
    const before = await metrics();
    await assert.rejects(client.chat.completions.create({ model: 'strict-plain', messages: [imageMessage] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /Rerouting is turned off for this model\. Models that accept images: eyes\./);
      return true;
    });
    assert.equal(await metrics(), before);
  });
});

describe('keep-alive while the first token is awaited', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      config: (url) => {
        const config = configFrom({
          providers: { sim: { base_url: url } },
          deployments: {
            slow: { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': 'slow-first-byte:1200' } },
            'slow-broken': { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': 'slow-first-byte:900,503' } },
          },
          models: { slow: { deployments: ['slow'] }, 'slow-broken': { deployments: ['slow-broken'] } },
          routing: { stream_keepalive_ms: 250, retry_budget: { min_retries: 1000 } },
        });
        return config;
      },
    });
  });
  after(async () => stack.close());

  const body = (model: string) => JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hello' }] });

  test('comments arrive before the first data event; the stream itself is unchanged', async () => {
    const reply = await request(`${stack.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('slow') });
    const text = await reply.body.text();
    assert.equal(reply.statusCode, 200);
    const firstData = text.indexOf('data: ');
    const comments = text.slice(0, firstData).match(/^: keep-alive$/gm) ?? [];
    assert.ok(comments.length >= 3, `keep-alive comments before the first event: ${comments.length}`);
    assert.ok(text.trimEnd().endsWith('data: [DONE]'));
  });

  test('the openai SDK and the Vercel AI SDK read a kept-alive stream as if nothing happened', async () => {
    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'hello' }], stream: true })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.ok(text.split(' ').length >= 5, `openai SDK text: ${text}`);

    const provider = createOpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous' });
    const result = streamText({ model: provider.chat('slow'), prompt: 'hello', maxRetries: 0 });
    let vercelText = '';
    for await (const delta of result.textStream) vercelText += delta;
    assert.ok(vercelText.split(' ').length >= 5, `Vercel AI SDK text: ${vercelText}`);
    assert.equal(await result.finishReason, 'stop');
  });

  test('when every attempt fails after keep-alive began, the stream ends with an error event and the SDK throws', async () => {
    const reply = await request(`${stack.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body('slow-broken') });
    const text = await reply.body.text();
    assert.equal(reply.statusCode, 200, 'the 200 went out with the first keep-alive');
    assert.ok(!text.includes('[DONE]'));
    const last = JSON.parse(text.trim().split('\n').at(-1)!.slice('data: '.length)) as { error: { code: string; message: string } };
    assert.equal(last.error.code, 'upstream_unavailable');
    // The 503 carried Retry-After: 1, so the only deployment may not be called again at once.
    assert.match(last.error.message, /^Upstream slow-broken failed with status 503/);

    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
    await assert.rejects(async () => {
      for await (const chunk of await client.chat.completions.create({ model: 'slow-broken', messages: [{ role: 'user', content: 'x' }], stream: true })) void chunk;
    }, OpenAI.APIError);
  });
});

describe('client disconnect', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ pacing: 'realistic' });
  });
  after(async () => stack.close());

  test('closes the upstream stream within a second and records the usage spent so far', async () => {
    const controller = new AbortController();
    const reply = await request(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-tps': '20', 'x-sim-tokens': '400', 'x-sim-ttft-ms': '0' },
      body: JSON.stringify({ model: 'sim-chat', stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] }),
      signal: controller.signal,
    });
    const reader = reply.body[Symbol.asyncIterator]();
    let seen = '';
    while (!/"content":"[^"]+"/.test(seen)) seen += String((await reader.next()).value);
    await new Promise((r) => setTimeout(r, 300)); // a few more tokens
    assert.equal(stack.simulator.openStreams(), 1);
    controller.abort();
    const closedBy = Date.now() + 1000;
    while (stack.simulator.openStreams() > 0 && Date.now() < closedBy) await new Promise((r) => setTimeout(r, 10));
    assert.equal(stack.simulator.openStreams(), 0, 'the upstream socket closed within 1 s');

    let metrics = '';
    for (let i = 0; i < 50 && !/floodgate_partial_streams_total/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 20));
      metrics = await (await request(`${stack.gateway.url}/metrics`)).body.text();
    }
    assert.match(metrics, /floodgate_partial_streams_total\{model="sim-chat",deployment="simulator:sim-chat"\} 1/);
    const out = Number(/floodgate_tokens_total\{model="sim-chat",deployment="simulator:sim-chat",direction="out"\} (\d+)/.exec(metrics)?.[1]);
    const inTokens = Number(/floodgate_tokens_total\{model="sim-chat",deployment="simulator:sim-chat",direction="in"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(out >= 2 && out < 400, `partial completion tokens: ${out}`);
    assert.ok(inTokens > 5, `prompt tokens counted: ${inTokens}`);
  });
});

describe('the total timeout', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      config: (url) =>
        configFrom({
          providers: { sim: { base_url: url } },
          deployments: {
            glacial: { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': 'slow-first-byte:5000' } },
            // A healthy upstream that streams slowly: 5 tokens a second for 100 tokens.
            unhurried: { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-tps': '5', 'x-sim-tokens': '100', 'x-sim-ttft-ms': '0' } },
          },
          models: { glacial: { deployments: ['glacial'] }, unhurried: { deployments: ['unhurried'] } },
          routing: { total_timeout_ms: 600, breaker: { consecutive_failures: 2 } },
        }),
    });
  });
  after(async () => stack.close());

  test('bounds a request whatever the provider timeouts allow, and the upstream call is cancelled', async () => {
    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
    const started = Date.now();
    await assert.rejects(client.chat.completions.create({ model: 'glacial', messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 504);
      assert.equal(error.code, 'request_timeout');
      return true;
    });
    assert.ok(Date.now() - started < 4000, 'answered at the deadline, not when the upstream would have');
  });

  test('a deadline that strikes mid-stream ends it with an error event and is not held against the upstream', async () => {
    for (let i = 0; i < 3; i++) {
      const reply = await request(`${stack.baseURL}/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'unhurried', stream: true, messages: [{ role: 'user', content: 'x' }] }),
      });
      const text = await reply.body.text();
      assert.equal(reply.statusCode, 200);
      assert.ok(!text.includes('[DONE]'));
      assert.equal((JSON.parse(text.trim().split('\n').at(-1)!.slice(6)) as { error: { code: string } }).error.code, 'request_timeout');
    }
    const metrics = await (await request(`${stack.gateway.url}/metrics`)).body.text();
    assert.match(metrics, /floodgate_deployment_breaker_state\{deployment="unhurried"\} 0/, 'the breaker stays closed');
    assert.doesNotMatch(metrics, /floodgate_upstream_errors_total\{deployment="unhurried"/);
    assert.match(metrics, /floodgate_deployment_in_flight\{deployment="unhurried"\} 0/, 'every lease ended');
  });
});
