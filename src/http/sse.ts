// Writes a chunk stream to the client as OpenAI does: `data: {json}\n\n` ... `data: [DONE]\n\n`.
// A failure after the first byte ends the stream with an error event and no [DONE], so clients
// never mistake a broken answer for a complete one.
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { ChatCompletionChunk } from '../core/openai-types.js';
import { GatewayError } from '../core/errors.js';
import { toGatewayError } from './error-reply.js';

/** The open streams, so shutdown can wait for them and end the stragglers honestly. */
export class StreamTracker {
  private readonly open = new Set<(reason: GatewayError) => void>();

  get size(): number {
    return this.open.size;
  }

  add(stop: (reason: GatewayError) => void): () => void {
    this.open.add(stop);
    return () => this.open.delete(stop);
  }

  stopAll(reason: GatewayError): void {
    for (const stop of this.open) stop(reason);
  }

  async drained(deadlineMs: number): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    while (this.open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    return this.open.size === 0;
  }
}

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
 * Streams `first` then the rest of `iterator`. The caller has already pulled the first chunk, so
 * failures before any byte was sent still become an ordinary JSON error reply.
 */
export async function writeSSE(
  res: ServerResponse,
  headers: Record<string, string>,
  first: ChatCompletionChunk,
  iterator: AsyncIterator<ChatCompletionChunk>,
  tracker: StreamTracker,
  upstream: AbortController,
): Promise<StreamResult> {
  let stopReason: GatewayError | undefined;
  // Stopping aborts the upstream read, so a pending next() rejects at once and the catch below
  // sends the reason as the stream's last event.
  const untrack = tracker.add((reason) => {
    stopReason = reason;
    upstream.abort(reason);
  });
  res.writeHead(200, { ...SSE_HEADERS, ...headers });
  try {
    if (!(await send(res, `data: ${JSON.stringify(first)}\n\n`))) return closedByClient(iterator);
    for (;;) {
      const next = await iterator.next();
      if (stopReason) throw stopReason;
      if (next.done) break;
      if (!(await send(res, `data: ${JSON.stringify(next.value)}\n\n`))) return closedByClient(iterator);
    }
    res.end('data: [DONE]\n\n');
    return { end: 'complete' };
  } catch (error) {
    if (res.destroyed) return { end: 'client_closed' };
    const failure = stopReason ?? toGatewayError(error);
    res.end(`data: ${JSON.stringify(failure.toBody())}\n\n`);
    return { end: 'failed', error: failure };
  } finally {
    untrack();
  }
}

/** Writes respecting backpressure; false when the client has gone. */
async function send(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  await Promise.race([once(res, 'drain'), once(res, 'close')]);
  return !res.destroyed;
}

async function closedByClient(iterator: AsyncIterator<ChatCompletionChunk>): Promise<StreamResult> {
  await iterator.return?.();
  return { end: 'client_closed' };
}
