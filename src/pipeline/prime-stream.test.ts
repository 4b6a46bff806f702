// primeStream's hand-over: held chunks replay first, and a consumer that pauses during the replay
// (its client's buffer is full) keeps the upstream paused until it resumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelSignal } from '../core/cancel.js';
import type { ChatCompletionChunk } from '../core/openai-types.js';
import type { ChunkSink, ChunkStream } from '../providers/types.js';
import { primeStream } from './prime-stream.js';

const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
  id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }],
});

function scripted() {
  let sink: ChunkSink | undefined;
  const state = { paused: false, cancelled: false };
  const stream: ChunkStream = {
    pipe: (s) => (sink = s),
    pause: () => (state.paused = true),
    resume: () => (state.paused = false),
    cancel: () => (state.cancelled = true),
  };
  return { stream, state, sink: () => sink! };
}

test('role-only chunks are held; the first content chunk primes; everything replays in order', async () => {
  const up = scripted();
  const primed = primeStream(up.stream, new CancelSignal());
  up.sink().chunk(chunk({ role: 'assistant', content: '' }));
  up.sink().chunk(chunk({ content: 'Hello' }));
  up.sink().chunk(chunk({ content: ' world' })); // same upstream read, after pause()
  const { stream, first } = await primed;
  assert.equal(first?.choices[0]!.delta.content, 'Hello');
  assert.equal(up.state.paused, true, 'paused until piped');
  const seen: string[] = [];
  stream.pipe({ chunk: (c) => seen.push(c.choices[0]!.delta.content ?? ''), end: () => seen.push('END'), error: () => seen.push('ERR') });
  assert.equal(up.state.paused, false);
  up.sink().end();
  assert.deepEqual(seen, ['', 'Hello', ' world', 'END']);
});

test('a consumer that pauses during the replay keeps the upstream paused', async () => {
  const up = scripted();
  const primed = primeStream(up.stream, new CancelSignal());
  up.sink().chunk(chunk({ content: 'a' }));
  up.sink().chunk(chunk({ content: 'b' }));
  const { stream } = await primed;
  stream.pipe({ chunk: () => stream.pause(), end: () => {}, error: () => {} });
  assert.equal(up.state.paused, true, 'the replay filled the client: no resume until drain');
  stream.resume();
  assert.equal(up.state.paused, false);
});

test('a failure before the first meaningful chunk rejects (the router may fail over); after it, replays as the end', async () => {
  const early = scripted();
  const rejected = primeStream(early.stream, new CancelSignal());
  early.sink().chunk(chunk({ role: 'assistant', content: '' }));
  early.sink().error(new Error('cut'));
  await assert.rejects(rejected, /cut/);

  const late = scripted();
  const primed = primeStream(late.stream, new CancelSignal());
  late.sink().chunk(chunk({ content: 'x' }));
  late.sink().error(new Error('cut later'));
  const { stream } = await primed;
  const errors: unknown[] = [];
  stream.pipe({ chunk: () => {}, end: () => assert.fail('no clean end'), error: (e) => errors.push(e) });
  assert.equal(errors.length, 1);
});

test('cancelling the request while waiting cancels the upstream and rejects with the reason', async () => {
  const up = scripted();
  const signal = new CancelSignal();
  const primed = primeStream(up.stream, signal);
  signal.abort(new Error('client left'));
  await assert.rejects(primed, /client left/);
  assert.equal(up.state.cancelled, true);
});
