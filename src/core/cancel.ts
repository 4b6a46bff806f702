// A cancellation signal for upstream calls. An AbortController per request cost measurably: Node's
// EventTarget-based AbortSignal keeps listener bookkeeping that outlives the request, so at
// thousands of requests per second it was promoted to the old generation and drove frequent
// mark-compact pauses (the p99 tail). undici accepts any EventEmitter with `aborted` and `reason`
// as a `signal`, so this small emitter does the same job without that cost.
import { EventEmitter } from 'node:events';

export class CancelSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  /** Cancels once; listeners of 'abort' run synchronously. */
  abort(reason: unknown = abortError()): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

function abortError(): Error {
  const error = new Error('The operation was aborted.');
  error.name = 'AbortError';
  return error;
}
