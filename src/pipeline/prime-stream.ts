// Waits for a stream's first meaningful chunk before the stream is handed on. Until then nothing
// has reached the client, so a failure (a cut after the role chunk, an in-band error, an idle
// timeout) is still an ordinary failed attempt the router can fail over from. The chunks that
// arrived meanwhile (a role-only opener, say) are held and replayed first.
import type { CancelSignal } from '../core/cancel.js';
import type { ChatCompletionChunk } from '../core/openai-types.js';
import type { ChunkSink, ChunkStream } from '../providers/types.js';

/** A chunk the client can see as progress: text, a tool call, a refusal, or a finish. */
export function isMeaningful(chunk: ChatCompletionChunk): boolean {
  for (const choice of chunk.choices) {
    const delta = choice.delta;
    if (delta.content || delta.tool_calls || delta.refusal || choice.finish_reason) return true;
  }
  return false;
}

export interface PrimedStream {
  stream: ChunkStream;
  /** The first meaningful chunk, undefined when the stream ended without one. */
  first: ChatCompletionChunk | undefined;
}

/**
 * Resolves with a stream that replays what was held, once the first meaningful chunk (or the
 * stream's end) has arrived; rejects with the error if the stream fails before that, or with the
 * abort reason if the request is cancelled while waiting.
 */
export function primeStream(upstream: ChunkStream, signal: CancelSignal): Promise<PrimedStream> {
  return new Promise((resolve, reject) => {
    const held: ChatCompletionChunk[] = [];
    let ending: { error: unknown } | 'end' | undefined;
    let target: ChunkSink | undefined;
    let primed = false;
    let first: ChatCompletionChunk | undefined;
    /** The consumer asked for a pause (backpressure) and has not resumed. */
    let pausedByConsumer = false;

    const onAbort = (): void => {
      upstream.cancel();
      reject(signal.reason);
    };
    const prime = (): void => {
      if (primed) return;
      primed = true;
      signal.off('abort', onAbort);
      // Hold further reads until someone pipes the primed stream, so nothing piles up here.
      upstream.pause();
      resolve({ stream: primedStream, first });
    };

    const primedStream: ChunkStream = {
      pipe(sink) {
        target = sink;
        for (const chunk of held.splice(0)) sink.chunk(chunk);
        if (ending === 'end') sink.end();
        else if (ending) sink.error(ending.error);
        // The replay itself may have filled the client's buffer: then the sink's drain resumes.
        else if (!pausedByConsumer) upstream.resume();
      },
      pause() {
        pausedByConsumer = true;
        upstream.pause();
      },
      resume() {
        pausedByConsumer = false;
        upstream.resume();
      },
      cancel: () => upstream.cancel(),
    };

    if (signal.aborted) return onAbort();
    signal.once('abort', onAbort);
    upstream.pipe({
      chunk(chunk) {
        if (target) return target.chunk(chunk);
        held.push(chunk);
        if (!primed && isMeaningful(chunk)) {
          first = chunk;
          prime();
        }
      },
      end() {
        if (target) return target.end();
        ending = 'end';
        prime();
      },
      error(error) {
        if (target) return target.error(error);
        if (primed) {
          ending = { error };
          return;
        }
        signal.off('abort', onAbort);
        reject(error);
      },
    });
  });
}
