// streamToClient against a client that stops reading: backpressure pauses the upstream once,
// with one drain listener, and resumes it when the client catches up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { ChatCompletionChunk } from '../core/openai-types.js';
import type { ChunkSink, ChunkStream } from '../providers/types.js';
import { streamToClient } from './sse.js';

const big = (i: number): ChatCompletionChunk => ({
  id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm',
  choices: [{ index: 0, delta: { content: `${i}:${'x'.repeat(16 * 1024)}` }, finish_reason: null }],
});

test('a slow reader pauses the upstream with a single drain listener, then the stream completes', async () => {
  let sink: ChunkSink | undefined;
  const calls = { pause: 0, resume: 0 };
  const stream: ChunkStream = {
    pipe: (s) => (sink = s),
    pause: () => calls.pause++,
    resume: () => calls.resume++,
    cancel: () => {},
  };
  let maxDrainListeners = 0;
  const result = new Promise<string>((resolve) => {
    const server = createServer((_req, res) => {
      void streamToClient(res, stream, {}, () => {}).then((r) => {
        server.close();
        resolve(r.end);
      });
      // One upstream read carrying 200 events, far more than the socket buffer takes.
      for (let i = 0; i < 200; i++) {
        sink!.chunk(big(i));
        maxDrainListeners = Math.max(maxDrainListeners, res.listenerCount('drain'));
      }
      sink!.end();
    });
    server.listen(0, '127.0.0.1', () => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n');
      socket.pause(); // stop reading for a while
      let received = '';
      setTimeout(() => {
        socket.on('data', (d: Buffer) => (received = (received + d.toString('latin1')).slice(-64)));
        socket.resume();
      }, 200);
      socket.on('end', () => socket.destroy());
    });
  });
  assert.equal(await result, 'complete');
  assert.ok(calls.pause >= 1, 'the upstream was paused');
  assert.ok(maxDrainListeners <= 1, `at most one drain listener, saw ${maxDrainListeners}`);
});
