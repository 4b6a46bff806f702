// Each injected fault, seen through the official openai SDK (maxRetries: 0) or a raw fetch.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startSimulator, type RunningSimulator } from './index.js';

let sim: RunningSimulator;
let client: OpenAI;
const messages = [{ role: 'user' as const, content: 'Hello there.' }];

before(async () => {
  sim = await startSimulator({ pacing: 'instant' });
  client = new OpenAI({ baseURL: sim.url, apiKey: 'x', maxRetries: 0 });
});
after(async () => sim.close());

function withFault(fault: string): { headers: Record<string, string> } {
  return { headers: { 'x-sim-fault': fault } };
}

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<{ chunks: number; error?: unknown }> {
  let chunks = 0;
  try {
    for await (const _chunk of stream) chunks++;
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('error faults', () => {
  test('429 answers OpenAI rate-limit body and headers; the model suffix works like the header', async () => {
    const viaHeader = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('429:7')).catch((e: unknown) => e);
    const viaSuffix = await client.chat.completions.create({ model: 'sim-chat@fault=429:7', messages }).catch((e: unknown) => e);
    for (const error of [viaHeader, viaSuffix]) {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.code, 'rate_limit_exceeded');
      assert.equal(error.type, 'requests');
      assert.equal(error.headers.get('retry-after'), '7');
      assert.equal(error.headers.get('retry-after-ms'), '7000');
      assert.equal(error.headers.get('x-ratelimit-remaining-requests'), '0');
      assert.equal(error.headers.get('x-ratelimit-reset-requests'), '7s');
      assert.match(error.message, /Rate limit reached for sim-chat /);
    }
  });

  test('500, 502 and 503 answer OpenAI-shaped server errors; 503 carries Retry-After', async () => {
    const e500 = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('500')).catch((e: unknown) => e);
    assert.ok(e500 instanceof OpenAI.InternalServerError);
    assert.equal(e500.status, 500);
    assert.equal(e500.type, 'server_error');
    const e502 = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('502')).catch((e: unknown) => e);
    assert.ok(e502 instanceof OpenAI.InternalServerError);
    assert.equal(e502.status, 502);
    assert.equal(e502.type, 'cf_bad_gateway');
    const e503 = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('503:3')).catch((e: unknown) => e);
    assert.ok(e503 instanceof OpenAI.InternalServerError);
    assert.equal(e503.status, 503);
    assert.equal(e503.headers.get('retry-after'), '3');
    assert.match(e503.message, /currently overloaded/);
  });

  test('refusal is a 400 content_policy_violation', async () => {
    const error = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('refusal')).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.equal(error.code, 'content_policy_violation');
    assert.equal(error.type, 'invalid_request_error');
  });

  test('p=0 never fires; a bad spec is a 400 naming the header', async () => {
    const fine = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('500;p=0'));
    assert.equal(fine.object, 'chat.completion');
    const error = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('teapot')).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.equal(error.param, 'x-sim-fault');
  });
});

describe('connection faults', () => {
  test('reset drops the connection before any response: APIConnectionError', async () => {
    const error = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('reset')).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIConnectionError);
  });

  test('slow-first-byte holds the headers back: a short client timeout fires, a patient client succeeds', async () => {
    const impatient = new OpenAI({ baseURL: sim.url, apiKey: 'x', maxRetries: 0, timeout: 100 });
    const error = await impatient.chat.completions.create({ model: 'sim-chat', messages }, withFault('slow-first-byte:5000')).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIConnectionTimeoutError);
    const ok = await client.chat.completions.create({ model: 'sim-chat', messages }, withFault('slow-first-byte:50'));
    assert.equal(ok.object, 'chat.completion');
  });

  test('cut: a stream delivers n chunks then dies without [DONE]; a JSON body is cut mid-way', async () => {
    const stream = await client.chat.completions.create({ model: 'sim-chat', messages, stream: true }, withFault('cut:3'));
    const result = await collect(stream);
    assert.equal(result.chunks, 3);
    assert.ok(result.error instanceof Error, 'iteration throws');
    await assert.rejects(client.chat.completions.create({ model: 'sim-chat', messages }, withFault('cut:1')));
  });

  test('malformed: the SDK fails on the bad chunk; the raw stream carries on to [DONE]', async () => {
    const quiet = new OpenAI({ baseURL: sim.url, apiKey: 'x', maxRetries: 0, logLevel: 'off' });
    const stream = await quiet.chat.completions.create({ model: 'sim-chat', messages, stream: true }, withFault('malformed:2'));
    const result = await collect(stream);
    assert.equal(result.chunks, 2);
    assert.ok(result.error instanceof SyntaxError);
    const raw = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-fault': 'malformed:2' },
      body: JSON.stringify({ model: 'sim-chat', messages, stream: true }),
    });
    const events = (await raw.text()).split('\n\n').filter((e) => e.length > 0);
    assert.throws(() => JSON.parse(events[2]!.slice('data: '.length)));
    assert.equal(events.at(-1), 'data: [DONE]');
  });

  test('error-event: an in-band error after n chunks surfaces as an APIError', async () => {
    const stream = await client.chat.completions.create({ model: 'sim-chat', messages, stream: true }, withFault('error-event:2'));
    const result = await collect(stream);
    assert.equal(result.chunks, 2);
    assert.ok(result.error instanceof OpenAI.APIError);
    assert.match(result.error.message, /The server had an error while processing your request/);
  });

  test('slow-loris stalls between chunks; a client that leaves frees the stream', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: 'sim-chat', messages, stream: true }, { ...withFault('slow-loris:10000'), signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.value?.choices[0]?.delta.role, 'assistant');
    assert.equal(sim.openStreams(), 1);
    controller.abort();
    await waitFor(() => sim.openStreams() === 0);
    assert.equal(sim.openStreams(), 0);
  });

  test('slow-loris on a short stream still delivers every chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'sim-chat', messages, stream: true, max_tokens: 3 }, withFault('slow-loris:5'));
    const result = await collect(stream);
    assert.equal(result.error, undefined);
    assert.equal(result.chunks, 5, 'role, 3 tokens, finish');
  });
});

describe('pacing and shutdown', () => {
  test('paced streams deliver the same content; close() ends open streams at once', async () => {
    const paced = await startSimulator({ pacing: 'realistic' });
    try {
      const pacedClient = new OpenAI({ baseURL: paced.url, apiKey: 'x', maxRetries: 0 });
      const quick = await pacedClient.chat.completions.create(
        { model: 'sim-chat', messages, stream: true, stream_options: { include_usage: true } },
        { headers: { 'x-sim-ttft-ms': '5', 'x-sim-tps': '1000', 'x-sim-tokens': '10' } },
      );
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of quick) usage = chunk.usage ?? usage;
      assert.equal(usage?.completion_tokens, 10);

      const stuck = await pacedClient.chat.completions.create({ model: 'sim-chat', messages, stream: true }, { headers: { 'x-sim-ttft-ms': '60000' } });
      const pending = collect(stuck);
      await waitFor(() => paced.openStreams() === 1);
      assert.equal(paced.openStreams(), 1);
      await paced.close();
      const result = await pending;
      assert.ok(result.error instanceof Error, 'the stream was torn down by close()');
    } finally {
      await paced.close().catch(() => undefined);
    }
  });
});
