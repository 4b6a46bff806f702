// The official openai SDK reading what this module produces, over a real socket: a tiny server
// parses the SDK's request with parseCreateResponse and answers with responseEvents written by
// formatSseEvent (or toResponse for a non-streaming call). The SDK must see every event, rebuild
// the same final Response, and, for a stream whose upstream broke, report the failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { GatewayError } from '../core/errors.js';
import type { ChatCompletionChunk, FinishReason } from '../core/openai-types.js';
import { newResponseId } from './ids.js';
import { parseCreateResponse } from './request.js';
import { toResponse, type ResponseMeta } from './response.js';
import { formatSseEvent, responseEvents } from './stream.js';
import type { ResponseObject, ResponseStreamEvent } from './types.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];
const chunk = (delta: Delta, finish: FinishReason | null = null): ChatCompletionChunk => ({
  id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'upstream', choices: [{ index: 0, delta, finish_reason: finish }],
});

const BROKEN = new GatewayError('The upstream connection closed before the answer was complete.', { status: 502, type: 'upstream_error', code: 'upstream_stream_broken' });

/** What the upstream "sends" for each model name the tests ask for. */
const SCENARIOS: Record<string, { chunks: ChatCompletionChunk[]; failure?: GatewayError }> = {
  'text-and-tools': {
    chunks: [
      chunk({ role: 'assistant', content: 'Looking up ' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_p', type: 'function', function: { name: 'weather', arguments: '{"city":' } }] }),
      chunk({ content: 'both cities.' }),
      chunk({ tool_calls: [{ index: 1, id: 'call_r', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({}, 'tool_calls'),
      { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'upstream', choices: [], usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 } },
    ],
  },
  broken: { chunks: [chunk({ role: 'assistant', content: 'Half an ans' })], failure: BROKEN },
  // The same, with the error event cut down to the spec's top-level fields (see the last test).
  'broken-spec-fields-only': { chunks: [chunk({ role: 'assistant', content: 'Half an ans' })], failure: BROKEN },
};

interface Served { events: ResponseStreamEvent[]; final: ResponseObject }
const served: Served[] = [];
let server: Server;
let client: OpenAI;

async function* upstream(model: string): AsyncGenerator<ChatCompletionChunk> {
  const scenario = SCENARIOS[model]!;
  for (const c of scenario.chunks) yield c;
  if (scenario.failure) throw scenario.failure;
}

before(async () => {
  server = createServer(async (req, res) => {
    let raw = '';
    for await (const piece of req) raw += String(piece);
    let meta: ResponseMeta;
    try {
      const request = parseCreateResponse(JSON.parse(raw));
      meta = { id: newResponseId(), createdAt: Math.floor(Date.now() / 1000), model: `${request.model}-2025`, request };
    } catch (error) {
      const failure = error as GatewayError;
      res.writeHead(failure.status ?? 500, { 'content-type': 'application/json' }).end(JSON.stringify(failure.toBody()));
      return;
    }
    if (!meta.request.stream) {
      const final = toResponse(
        { id: 'c', object: 'chat.completion', created: 1, model: 'u', choices: [{ index: 0, message: { role: 'assistant', content: 'Plain answer.' }, finish_reason: 'stop', logprobs: null }] },
        meta,
      );
      served.push({ events: [], final });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(final));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    const record: Served = { events: [], final: undefined as unknown as ResponseObject };
    const events = responseEvents(upstream(meta.request.model), meta);
    for (;;) {
      const next = await events.next();
      if (next.done) {
        record.final = next.value;
        break;
      }
      let event = next.value;
      if (meta.request.model === 'broken-spec-fields-only' && event.type === 'error') {
        const { error: _nested, ...specFields } = event;
        event = specFields as ResponseStreamEvent;
      }
      record.events.push(event);
      res.write(formatSseEvent(event));
    }
    served.push(record);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, apiKey: 'x', maxRetries: 0 });
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const TOOLS = [{ type: 'function' as const, name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];

/** The SDK's own additions to a Response (output_text, parsed fields), removed to compare with the wire object. */
function wireOf(response: object): unknown {
  const { output_text: _t, output_parsed: _p, ...rest } = response as Record<string, unknown>;
  const output = (rest.output as Array<Record<string, unknown>>).map(({ parsed_arguments: _a, ...item }) =>
    Array.isArray(item.content) ? { ...item, content: item.content.map(({ parsed: _x, ...part }: Record<string, unknown>) => part) } : item,
  );
  return { ...rest, output };
}

describe('the openai SDK reads these streams', () => {
  test('responses.create({stream: true}) sees every event, as sent', async () => {
    const stream = await client.responses.create({ model: 'text-and-tools', input: 'Weather in Paris and Rome?', tools: TOOLS, stream: true });
    const seen: unknown[] = [];
    for await (const event of stream) seen.push(event);
    const sent = served.at(-1)!;
    assert.equal(seen.length, sent.events.length);
    assert.deepEqual(seen, JSON.parse(JSON.stringify(sent.events)));
    assert.equal((seen.at(-1) as { type: string }).type, 'response.completed');
  });

  test("responses.stream()'s finalResponse() is the Response the stream ended with", async () => {
    const stream = client.responses.stream({ model: 'text-and-tools', input: 'Weather in Paris and Rome?', tools: TOOLS });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    const sent = served.at(-1)!;
    assert.deepEqual(wireOf(final), JSON.parse(JSON.stringify(sent.final)));
    assert.equal(final.output_text, 'Looking up both cities.');
    assert.equal(deltas.join(''), 'Looking up both cities.');
    assert.deepEqual(
      final.output.filter((i) => i.type === 'function_call').map((i) => i.type === 'function_call' && [i.call_id, i.arguments]),
      [['call_p', '{"city":"Paris"}'], ['call_r', '{"city":"Rome"}']],
    );
    assert.equal(final.status, 'completed');
    assert.equal(final.model, 'text-and-tools-2025');
  });

  test('a broken stream: create() yields response.failed, then throws the gateway error', async () => {
    const stream = await client.responses.create({ model: 'broken', input: 'Hi', stream: true });
    const seen: Array<{ type: string; response?: { status: string; error: unknown } }> = [];
    let thrown: unknown;
    try {
      for await (const event of stream) seen.push(event as (typeof seen)[number]);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof OpenAI.APIError, `expected an APIError, got ${String(thrown)}`);
    assert.equal(thrown.message, BROKEN.message);
    assert.equal(thrown.code, 'upstream_stream_broken');
    assert.equal(thrown.type, 'upstream_error');
    const failed = seen.at(-1)!;
    assert.equal(failed.type, 'response.failed');
    assert.equal(failed.response?.status, 'failed');
    assert.deepEqual(failed.response?.error, { code: 'server_error', message: BROKEN.message });
    assert.equal(seen.some((e) => e.type === 'response.completed' || e.type === 'response.output_item.done'), false);
  });

  test("a broken stream: responses.stream()'s finalResponse() rejects instead of returning half an answer", async () => {
    const stream = client.responses.stream({ model: 'broken', input: 'Hi' });
    const failedEvents: unknown[] = [];
    stream.on('response.failed', (event) => failedEvents.push(event));
    await assert.rejects(stream.finalResponse(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.message, BROKEN.message);
      return true;
    });
    assert.equal(failedEvents.length, 1);
  });

  test('a non-streaming call gets the toResponse object, with the SDK adding output_text', async () => {
    const response = await client.responses.create({ model: 'plain', input: 'Hi', metadata: { k: 'v' }, temperature: 0.2 });
    assert.deepEqual(wireOf(response), JSON.parse(JSON.stringify(served.at(-1)!.final)));
    assert.equal(response.output_text, 'Plain answer.');
    assert.equal(response.temperature, 0.2);
    assert.deepEqual(response.metadata, { k: 'v' });
  });

  test('why the error event carries a nested `error`: with the spec fields alone the SDK throws nothing', async () => {
    const stream = await client.responses.create({ model: 'broken-spec-fields-only', input: 'Hi', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.deepEqual(types.slice(-2), ['response.failed', 'error']);
  });
});
