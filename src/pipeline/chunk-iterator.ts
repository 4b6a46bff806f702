// A pushed chunk stream as an async iterator, for consumers written as loops (the Responses API's
// event translation). Backpressure carries through: past `highWater` unread chunks the upstream is
// paused, and resumed once the reader catches up. Leaving the loop early cancels the upstream.
import type { ChatCompletionChunk } from '../core/openai-types.js';
import type { ChunkStream } from '../providers/types.js';

export function chunkIterator(stream: ChunkStream, highWater = 64): AsyncIterableIterator<ChatCompletionChunk> {
  const buffered: ChatCompletionChunk[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let paused = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  let piped = false;
  const ensurePiped = (): void => {
    if (piped) return;
    piped = true;
    stream.pipe({
      chunk(chunk) {
        buffered.push(chunk);
        if (buffered.length >= highWater && !paused) {
          paused = true;
          stream.pause();
        }
        notify();
      },
      end() {
        ended = true;
        notify();
      },
      error(error) {
        failure = { error };
        notify();
      },
    });
  };

  const iterator: AsyncIterableIterator<ChatCompletionChunk> = {
    async next(): Promise<IteratorResult<ChatCompletionChunk>> {
      ensurePiped();
      for (;;) {
        const chunk = buffered.shift();
        if (chunk) {
          if (paused && buffered.length < highWater / 2) {
            paused = false;
            stream.resume();
          }
          return { value: chunk, done: false };
        }
        if (failure) throw failure.error;
        if (ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return(): Promise<IteratorResult<ChatCompletionChunk>> {
      if (!ended && !failure) stream.cancel();
      ended = true;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
