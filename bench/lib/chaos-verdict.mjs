// What a client of the chaos benchmark saw, one request at a time. A stream is judged only by
// its bytes, the way a client library would: either it is a complete answer, or it failed before
// the first byte (an ordinary JSON error), or it failed after it and said so in a last error
// event. Anything else (a clean end without [DONE], a connection torn down with no error event,
// a corrupt or extra event, a stall) is a dishonest stream: a client could mistake it for a
// complete answer, or wait for ever.
import { checkCompletion } from './check.mjs';

/** Non-streaming: null for a good completion, else a short reason (`http 502 upstreams_exhausted`). */
export function completionProblem(status, text) {
  const problem = checkCompletion(status, text);
  if (!problem || status === 200) return problem;
  return `${problem} ${errorCode(text)}`;
}

/** The error code of a gateway error body, or a short description of what came instead. */
export function errorCode(text) {
  try {
    const body = JSON.parse(text);
    return String(body?.error?.code ?? body?.error?.type ?? 'no code');
  } catch {
    return 'non-JSON body';
  }
}

/**
 * Reads an SSE body as it arrives (feed, then end or abort) and gives the stream's verdict:
 * { kind: 'ok' | 'error_event' | 'dishonest', reason }.
 */
export class StreamJudge {
  constructor() {
    this.partial = '';
    this.contentChunks = 0;
    this.done = false;
    this.errorEvent = null; // the error code of an in-band error event
    this.afterEnd = false; // any data after [DONE] or after the error event
    this.corrupt = null; // the first event that was not a chunk
  }

  feed(text) {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop();
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      // Blank separators and comments (`: keep-alive`) carry nothing.
      if (line.startsWith('data:')) this.onData(line.slice(line[5] === ' ' ? 6 : 5));
    }
  }

  onData(payload) {
    if (this.done || this.errorEvent) {
      this.afterEnd = true;
      return;
    }
    if (payload === '[DONE]') {
      this.done = true;
      return;
    }
    let event;
    try {
      event = JSON.parse(payload);
    } catch {
      this.corrupt ??= 'an event that is not JSON';
      return;
    }
    if (event?.error) {
      this.errorEvent = String(event.error.code ?? event.error.type ?? 'no code');
      return;
    }
    if (event?.object !== 'chat.completion.chunk') {
      this.corrupt ??= 'an event that is not a chat.completion.chunk';
      return;
    }
    const content = event.choices?.[0]?.delta?.content;
    if (typeof content === 'string' && content.length > 0) this.contentChunks++;
  }

  /**
   * The verdict once the body is over. `cut` says how it ended when it did not end cleanly:
   * undefined (clean end), 'reset' (the connection failed) or 'stalled' (the client gave up).
   */
  verdict(cut) {
    if (this.corrupt) return { kind: 'dishonest', reason: `relayed ${this.corrupt}` };
    if (this.afterEnd) return { kind: 'dishonest', reason: this.done ? 'data after [DONE]' : 'data after the error event' };
    // A last line without its newline: the stream stopped in the middle of an event.
    if (this.partial.trim() !== '') return { kind: 'dishonest', reason: 'stopped in the middle of an event' };
    // The error event as the last event is the honest way to fail mid-stream; how the
    // connection closed after it changes nothing for a client, which has its answer.
    if (this.errorEvent) return { kind: 'error_event', reason: this.errorEvent };
    if (this.done) {
      if (this.contentChunks === 0) return { kind: 'dishonest', reason: '[DONE] without content' };
      // [DONE] is the client's proof of completeness; a connection lost after it loses nothing.
      return { kind: 'ok' };
    }
    if (cut === 'stalled') return { kind: 'dishonest', reason: 'stalled without an error event' };
    if (cut) return { kind: 'dishonest', reason: 'connection cut without an error event' };
    return { kind: 'dishonest', reason: 'clean end without [DONE] or an error event' };
  }
}
