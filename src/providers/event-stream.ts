// Turns an upstream's SSE body into a ChunkStream. Each adapter supplies only the mapping from
// one event to zero or more chunks, so OpenAI-, Anthropic- and Gemini-style streams share the
// framing, the honesty rules and the cancellation here.
import type { Readable } from 'node:stream';
import { GatewayError } from '../core/errors.js';
import type { ChatCompletionChunk } from '../core/openai-types.js';
import { SSEDecoder, type SSEEvent } from './sse.js';
import type { ChunkSink, ChunkStream } from './types.js';
import { fromTransportError, malformedUpstream } from './upstream-errors.js';

/** What an event meant: chunks were emitted, or the upstream said the stream is complete. */
export type EventOutcome = 'more' | 'done';

/** Maps one event; throws a GatewayError for in-band errors or malformed data. */
export type EventHandler = (event: SSEEvent, emit: (chunk: ChatCompletionChunk) => void) => EventOutcome;

/** An upstream that never ends its event must not grow our memory without bound. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

export function sseChunkStream(body: Readable, deployment: string, onEvent: EventHandler): ChunkStream {
  const decoder = new SSEDecoder();
  let sink: ChunkSink | undefined;
  let done = false;
  let finished = false;
  let bytesSinceEvent = 0;

  const fail = (error: unknown): void => {
    if (finished) return;
    finished = true;
    body.destroy();
    sink?.error(error);
  };
  const emit = (chunk: ChatCompletionChunk): void => {
    if (!finished) sink?.chunk(chunk);
  };

  return {
    pipe(target) {
      sink = target;
      body.on('data', (bytes: Buffer) => {
        if (done || finished) return; // keep draining after [DONE] so the connection is reused
        try {
          const events = decoder.push(bytes);
          bytesSinceEvent = events.length > 0 ? 0 : bytesSinceEvent + bytes.length;
          if (bytesSinceEvent > MAX_EVENT_BYTES) throw malformedUpstream(deployment, 'a stream event larger than 16 MiB');
          for (const event of events) {
            if (onEvent(event, emit) === 'done') {
              // The answer is complete now, whatever the connection does next; the body is
              // still drained quietly so the keep-alive connection can be reused.
              done = true;
              finished = true;
              sink?.end();
              body.resume(); // in case backpressure had paused it
              break;
            }
          }
        } catch (error) {
          fail(error);
        }
      });
      body.on('end', () => {
        if (finished) return;
        fail(new GatewayError(`Upstream ${deployment} ended the stream before it was complete.`, {
          status: 502, type: 'upstream_error', code: 'upstream_stream_incomplete', retryable: true, deployment,
        }));
      });
      body.on('error', (error) => {
        if (!finished) fail(fromTransportError(deployment, error));
      });
    },
    pause: () => body.pause(),
    resume: () => body.resume(),
    cancel() {
      finished = true;
      body.destroy();
    },
  };
}
