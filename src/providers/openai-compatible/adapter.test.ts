// The adapter against an upstream that misbehaves in ways the simulator does not: chunks of the
// wrong shape must become a clean upstream_malformed error, never a crash in the pipeline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { GatewayError } from '../../core/errors.js';
import { CancelSignal } from '../../core/cancel.js';
import { openAICompatible } from './adapter.js';
import type { ChatCompletionChunk } from '../../core/openai-types.js';

let server: Server;
let baseUrl: string;
const transport = new Agent();

before(async () => {
  // The request's user message is the SSE data line the fake upstream sends, then [DONE].
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const { messages } = JSON.parse(body) as { messages: Array<{ content: string }> };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${messages[0]!.content}\n\ndata: [DONE]\n\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(async () => {
  await transport.close();
  await new Promise((resolve) => server.close(resolve));
});

async function streamOf(line: string): Promise<{ chunks: ChatCompletionChunk[]; error?: unknown }> {
  const model = openAICompatible.create(
    { name: 'p', kind: 'openai-compatible', baseUrl, headers: {}, timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000 }, maxConnections: 4 },
    { name: 'dep-x', upstreamModel: 'm', headers: {} },
    transport,
  );
  const outcome = await model.chat({ model: 'm', stream: true, messages: [{ role: 'user', content: line }] }, { signal: new CancelSignal(), requestId: 'r' });
  assert.equal(outcome.kind, 'stream');
  if (outcome.kind !== 'stream') throw new Error('unreachable');
  const chunks: ChatCompletionChunk[] = [];
  return new Promise((resolve) => {
    outcome.chunks.pipe({ chunk: (c) => chunks.push(c), end: () => resolve({ chunks }), error: (error) => resolve({ chunks, error }) });
  });
}

for (const line of ['42', 'null', '"text"', '{"id":"x"}', '{"choices":"no"}', '{"choices":[null]}', '{"choices":[{"delta":7}]}']) {
  test(`a chunk shaped like ${line} is upstream_malformed naming the deployment`, async () => {
    const { error } = await streamOf(line);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'upstream_malformed');
    assert.match(error.message, /dep-x/);
  });
}

test('a choice without delta is repaired, a usage-only chunk passes', async () => {
  const { chunks, error } = await streamOf('{"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop"}]}');
  assert.equal(error, undefined);
  assert.deepEqual(chunks[0]!.choices[0]!.delta, {});
  const usage = await streamOf('{"id":"a","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}');
  assert.equal(usage.error, undefined);
  assert.equal(usage.chunks[0]!.usage!.total_tokens, 3);
});
