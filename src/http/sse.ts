// Writes a chunk stream to the client as OpenAI does: `data: {json}\n\n` ... `data: [DONE]\n\n`.
// A failure after the first byte ends the stream with an error event and no [DONE], so clients
// never mistake a broken answer for a complete one.
import type { ServerResponse } from 'node:http';
import { clientClosed, type GatewayError } from '../core/errors.js';
import type { ChunkSink, ChunkStream } from '../providers/types.js';
import { toGatewayError } from './error-reply.js';

export interface StreamResult {
  /** How the stream ended: complete ([DONE] sent), failed (error event sent) or the client left. */
  end: 'complete' | 'failed' | 'client_closed';
  error?: GatewayError;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // nginx and similar proxies otherwise buffer the stream and the client sees nothing until the end.
  'x-accel-buffering': 'no',
};

/**
 * Relays a chunk stream to the client as SSE. Headers go out with the first chunk, so a failure
 * before it rejects the promise and the caller answers with an ordinary JSON error (and, later,
 * can fail over). After it, a failure is written as a last error event.
 */
export function streamToClient(
  res: ServerResponse,
  stream: ChunkStream,
  headers: Record<string, string>,
  onFirstByte: () => void,
): Promise<StreamResult> {
  return new Promise<StreamResult>((resolve, reject) => {
    let started = false;
    let settled = false;
    const finish = (result: StreamResult | { reject: unknown }): void => {
      if (settled) return;
      settled = true;
      res.off('close', onClose);
      res.off('drain', resume);
      if ('reject' in result) reject(result.reject);
      else resolve(result);
    };
    const start = (): void => {
      started = true;
      onFirstByte();
      res.writeHead(200, { ...SSE_HEADERS, ...headers });
    };
    // One drain listener at most: a single upstream read can carry many events, and each write
    // past the buffer would otherwise add another.
    let waitingForDrain = false;
    const resume = (): void => {
      waitingForDrain = false;
      stream.resume();
    };
    const sink: ChunkSink = {
      chunk(chunk) {
        if (settled) return;
        if (!started) start();
        if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`) && !waitingForDrain) {
          waitingForDrain = true;
          stream.pause();
          res.once('drain', resume);
        }
      },
      end() {
        if (settled) return;
        if (!started) start();
        res.end('data: [DONE]\n\n');
        finish({ end: 'complete' });
      },
      error(error) {
        if (settled) return;
        if (!started) return finish({ reject: error });
        if (res.destroyed) return finish({ end: 'client_closed' });
        const failure = toGatewayError(error);
        res.end(`data: ${JSON.stringify(failure.toBody())}\n\n`);
        finish({ end: 'failed', error: failure });
      },
    };
    const onClose = (): void => {
      if (res.writableFinished) return;
      stream.cancel();
      finish(started ? { end: 'client_closed' } : { reject: clientClosed() });
    };
    res.once('close', onClose);
    // Shutdown's deadline arrives as a cancelled upstream call: its reason becomes the last event.
    stream.pipe(sink);
  });
}
