// Delivers a response over the socket with pacing and the delivery-time faults (cut, malformed,
// slow-loris, error-event). It is format-agnostic: the wire format supplies the events and the
// bytes of a malformed event and of an in-band error. Each stream uses a single setTimeout chain
// and stops, with its timer cleared, as soon as the client goes away.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultPlan } from './faults.js';

export interface EventSource {
  /** The next complete event (e.g. "data: {...}\n\n"), or undefined after the last one. */
  next(): string | undefined;
}

export interface StreamFaultFrames {
  malformed: string;
  errorEvent: string;
}

export interface StreamDelivery {
  res: ServerResponse;
  headers: Record<string, string>;
  events: EventSource;
  ttftMs: number;
  interEventMs: number;
  faults: FaultPlan | undefined;
  frames: StreamFaultFrames;
  /** Counts streams in flight (observable through RunningSimulator.openStreams()). */
  tracker: StreamTracker;
}

export interface StreamTracker {
  open: number;
}

/** Resolves true after `ms`, or false as soon as the client disconnects. */
export function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!res.destroyed);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

export function deliverStream(d: StreamDelivery): void {
  const { res, events, faults } = d;
  res.writeHead(200, d.headers);
  const stallMs = faults?.stallMs;
  const gap = stallMs ?? d.interEventMs;
  let written = 0;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  d.tracker.open++;
  // 'close' fires both after a normal end and when the client goes away.
  res.once('close', () => {
    d.tracker.open--;
    done = true;
    if (timer) clearTimeout(timer);
  });

  /** Emits one event, applying faults; returns the bytes to write and whether the stream is over. */
  const step = (): { out: string; end: 'no' | 'end' | 'destroy' | 'hang' } => {
    if (faults?.hangAfter !== undefined && written >= faults.hangAfter) return { out: '', end: 'hang' };
    if (faults?.cutAfter !== undefined && written >= faults.cutAfter) return { out: '', end: 'destroy' };
    if (faults?.errorEventAfter !== undefined && written >= faults.errorEventAfter) return { out: d.frames.errorEvent, end: 'end' };
    const event = events.next();
    if (event === undefined) return { out: '', end: 'end' };
    // A cut never lets [DONE] through: the client must see an unfinished stream.
    if (faults?.cutAfter !== undefined && event.startsWith('data: [DONE]')) return { out: '', end: 'destroy' };
    const malformed = faults?.malformedAfter === written ? d.frames.malformed : '';
    written++;
    return { out: malformed + event, end: 'no' };
  };

  const finish = (out: string, end: 'end' | 'destroy' | 'hang'): void => {
    done = true;
    if (end === 'hang') {
      // Nothing more, ever: the connection stays open until the client gives up.
      if (out.length > 0) res.write(out);
    } else if (end === 'end') {
      res.end(out);
    } else if (out.length > 0) {
      // Let the bytes already produced reach the client before the connection is torn down.
      res.write(out, () => res.destroy());
    } else {
      res.destroy();
    }
  };

  if (d.ttftMs <= 0 && gap <= 0) {
    // Instant mode (benchmarks): render everything and hand it to the socket in one write.
    let out = '';
    for (;;) {
      const r = step();
      out += r.out;
      if (r.end !== 'no') return finish(out, r.end);
    }
  }

  const tick = (): void => {
    timer = undefined;
    if (done) return;
    const r = step();
    if (r.end !== 'no') return finish(r.out, r.end);
    res.write(r.out);
    timer = setTimeout(tick, gap);
  };
  // slow-loris sends its first event at once and then stalls; otherwise the first token waits for TTFT.
  if (stallMs !== undefined || d.ttftMs <= 0) tick();
  else timer = setTimeout(tick, d.ttftMs);
}

/** A non-streaming body with the delivery faults applied (cut, malformed, slow-loris). */
export function deliverBody(res: ServerResponse, status: number, headers: Record<string, string>, body: string, faults: FaultPlan | undefined): void {
  if (faults?.cutAfter !== undefined) {
    const bytes = Buffer.from(body);
    res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
    return;
  }
  if (faults?.hangAfter !== undefined) {
    // Headers, then nothing: the body never comes and the connection stays open.
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.flushHeaders();
    return;
  }
  if (faults?.malformedAfter !== undefined) body = body.slice(0, Math.floor(body.length / 2));
  if (faults?.stallMs !== undefined && faults.stallMs > 0) {
    const bytes = Buffer.from(body);
    res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
    const pieceSize = Math.max(1, Math.ceil(bytes.length / 8));
    let offset = 0;
    let timer: NodeJS.Timeout | undefined;
    res.once('close', () => timer && clearTimeout(timer));
    const trickle = (): void => {
      const piece = bytes.subarray(offset, offset + pieceSize);
      offset += pieceSize;
      if (offset >= bytes.length) return void res.end(piece);
      res.write(piece);
      timer = setTimeout(trickle, faults.stallMs);
    };
    trickle();
    return;
  }
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * The faults that strike before any response, the same in every wire format: a delay before the
 * first byte, then a reset. False when nothing more may be sent (the client left, or the socket
 * was destroyed on purpose).
 */
export async function applyConnectionFaults(plan: FaultPlan | undefined, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (!plan) return true;
  if (plan.firstByteDelayMs > 0 && !(await waitUnlessClosed(res, plan.firstByteDelayMs))) return false;
  if (plan.reset) {
    req.socket.destroy();
    return false;
  }
  return true;
}
