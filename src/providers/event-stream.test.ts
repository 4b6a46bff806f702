import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { GatewayError } from '../core/errors.js';
import type { ChatCompletionChunk } from '../core/openai-types.js';
import { sseChunkStream, type EventHandler } from './event-stream.js';

const chunk = (content: string): ChatCompletionChunk => ({
  id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

const openAIish: EventHandler = (event, emit) => {
  if (event.data === '[DONE]') return 'done';
  emit(JSON.parse(event.data) as ChatCompletionChunk);
  return 'more';
};

function run(writes: Array<string | Buffer>, end = true) {
  const body = new PassThrough();
  const stream = sseChunkStream(body, 'dep-a', openAIish);
  const seen: string[] = [];
  const outcome = new Promise<{ ended: boolean; error?: unknown }>((resolve) => {
    stream.pipe({
      chunk: (c) => seen.push(c.choices[0]!.delta.content ?? ''),
      end: () => resolve({ ended: true }),
      error: (error) => resolve({ ended: false, error }),
    });
  });
  for (const w of writes) body.write(w);
  if (end) body.end();
  return { outcome, seen, body };
}

test('chunks arrive in order, split anywhere, and [DONE] ends the stream cleanly', async () => {
  const text = `data: ${JSON.stringify(chunk('Hel'))}\n\ndata: ${JSON.stringify(chunk('lo'))}\r\n\r\n: keep-alive\n\ndata: [DONE]\n\n`;
  const { outcome, seen } = run([...text].map((c) => c));
  assert.deepEqual(await outcome, { ended: true });
  assert.deepEqual(seen, ['Hel', 'lo']);
});

test('a body that ends without [DONE] is an error, never a clean end', async () => {
  const { outcome, seen } = run([`data: ${JSON.stringify(chunk('partial'))}\n\n`]);
  const { ended, error } = await outcome;
  assert.equal(ended, false);
  assert.ok(error instanceof GatewayError);
  assert.equal(error.code, 'upstream_stream_incomplete');
  assert.match(error.message, /dep-a/);
  assert.deepEqual(seen, ['partial']);
});

test('an event handler that throws ends the stream with its error and stops reading', async () => {
  const { outcome, body } = run(['data: {not json\n\n'], false);
  const { error } = await outcome;
  assert.ok(error instanceof SyntaxError);
  assert.ok(body.destroyed, 'the upstream body is released');
});

test('an event that never ends cannot grow memory without bound', async () => {
  const mib = Buffer.alloc(1024 * 1024, 0x61);
  const { outcome, body } = run([Buffer.from('data: '), ...Array.from({ length: 17 }, () => mib)], false);
  const { error } = await outcome;
  assert.ok(error instanceof GatewayError);
  assert.equal(error.code, 'upstream_malformed');
  assert.ok(body.destroyed);
});

test('cancel releases the body and no sink call follows', async () => {
  const body = new PassThrough();
  const stream = sseChunkStream(body, 'dep-a', openAIish);
  const calls: string[] = [];
  stream.pipe({ chunk: () => calls.push('chunk'), end: () => calls.push('end'), error: () => calls.push('error') });
  body.write(`data: ${JSON.stringify(chunk('a'))}\n\n`);
  await new Promise((r) => setImmediate(r));
  stream.cancel();
  body.write(`data: ${JSON.stringify(chunk('b'))}\n\n`);
  await new Promise((r) => setImmediate(r));
  assert.ok(body.destroyed);
  assert.deepEqual(calls, ['chunk']);
});

test('[DONE] completes the stream at once, even if the upstream keeps the connection open', async () => {
  const { outcome, seen, body } = run([`data: ${JSON.stringify(chunk('all'))}\n\ndata: [DONE]\n\n`], false);
  assert.deepEqual(await outcome, { ended: true });
  assert.deepEqual(seen, ['all']);
  body.destroy(new Error('reset after [DONE]')); // a later reset changes nothing
  await new Promise((r) => setImmediate(r));
});
