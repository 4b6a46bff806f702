// Writes a chunk stream to the client as OpenAI does: `data: {json}\n\n` ... `data: [DONE]\n\n`.
// A failure after the first byte ends the stream with an error event and no [DONE], so clients
// never mistake a broken answer for a complete one.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { clientClosed, type GatewayError } from '../core/errors.js';
import type { ChunkSink, ChunkStream } from '../providers/types.js';
import { toGatewayError } from './error-reply.js';
import { replyHeaders } from './headers.js';

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
 * An SSE comment: every SSE parser (the openai SDKs', eventsource-parser in the Vercel AI SDK,
 * browsers' EventSource) skips lines starting with a colon, while proxies and load balancers see
 * bytes and keep an idle connection open.
 */
export const KEEPALIVE_COMMENT = ': keep-alive\n\n';

/** A streaming answer before its first event (see startStream). */
export interface StreamStart {
  /** Whether the 200 is committed: after that a failure can only be the stream's last event. */
  readonly open: boolean;
  /** Commits the 200 with the SSE headers and `headers`, unless it already is. */
  commit(headers?: Record<string, string>): void;
  /** Marks the response taken over by a writer that sends the head itself (streamToClient). */
  takeOver(): void;
  /** Ends the keep-alive comments. */
  stopKeepalive(): void;
  /** Last of all: the open-streams gauge goes down again if this stream was opened. */
  finish(): void;
}

/**
 * Starts a streaming answer the way every streaming route does: while the route looks for a first
 * token (failover may take a while, or the request waits for budget), a comment every
 * `keepaliveMs` keeps proxies from timing the stream out. The first one commits the 200.
 */
export function startStream(reply: FastifyReply, requestId: string, openStreams: { inc(): void; dec(): void }, keepaliveMs: number): StreamStart {
  let open = false;
  const takeOver = (): void => {
    if (open) return;
    open = true;
    reply.hijack();
    openStreams.inc();
  };
  const commit = (headers: Record<string, string> = {}): void => {
    if (open) return;
    takeOver();
    reply.raw.writeHead(200, { ...replyHeaders(reply), ...SSE_HEADERS, 'x-request-id': requestId, ...headers });
  };
  const keepalive = setInterval(() => {
    commit();
    reply.raw.write(KEEPALIVE_COMMENT);
  }, keepaliveMs);
  return {
    get open() {
      return open;
    },
    commit,
    takeOver,
    stopKeepalive: () => clearInterval(keepalive),
    finish() {
      clearInterval(keepalive);
      if (open) openStreams.dec();
    },
  };
}

/** The stream's last event when it fails after its start: OpenAI's error shape, and no [DONE]. */
export function endWithErrorEvent(res: ServerResponse, error: unknown): GatewayError {
  const failure = toGatewayError(error);
  res.end(`data: ${JSON.stringify(failure.toBody())}\n\n`);
  return failure;
}

/**
 * Relays a chunk stream to the client as SSE. Headers go out with the first chunk (unless the
 * caller already sent them, with keep-alive comments), so a failure before it rejects the promise
 * and the caller answers with an ordinary JSON error. After it, a failure is written as a last
 * error event.
 */
export function streamToClient(
  res: ServerResponse,
  stream: ChunkStream,
  headers: Record<string, string>,
  onFirstByte: () => void,
  alreadyStarted = false,
): Promise<StreamResult> {
  return new Promise<StreamResult>((resolve, reject) => {
    let started = alreadyStarted;
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
        finish({ end: 'failed', error: endWithErrorEvent(res, error) });
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
