// Per-request plumbing shared by the endpoint handlers: the abort signal tied to the client's
// connection, and the identifiers echoed in response headers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CancelSignal } from '../core/cancel.js';
import { requestTimedOut } from '../core/errors.js';
import type { RequestContext } from '../pipeline/chat.js';
import { UsageMeter } from '../pipeline/usage-meter.js';
import type { Identity } from '../identity/identity.js';

/**
 * The requests being answered, so shutdown can wait for them and, at its deadline, cancel the
 * rest with a reason the client sees (a 503, or a stream's last error event).
 */
export class InFlight {
  private readonly signals = new Set<CancelSignal>();

  get size(): number {
    return this.signals.size;
  }

  add(signal: CancelSignal): () => void {
    this.signals.add(signal);
    return () => this.signals.delete(signal);
  }

  cancelAll(reason: unknown): void {
    for (const signal of this.signals) signal.abort(reason);
  }

  async drained(deadlineMs: number): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    while (this.signals.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    return this.signals.size === 0;
  }
}

/**
 * The upstream call is aborted the moment the client's connection closes before we finished, or
 * when the request's total time runs out (every attempt and the whole stream included).
 */
export function requestContext(request: FastifyRequest, reply: FastifyReply, inflight: InFlight, totalTimeoutMs: number): RequestContext {
  const signal = new CancelSignal();
  const res = reply.raw;
  const untrack = inflight.add(signal);
  const deadline = setTimeout(() => signal.abort(requestTimedOut(totalTimeoutMs)), totalTimeoutMs);
  const onClose = (): void => {
    clearTimeout(deadline);
    untrack();
    if (!res.writableFinished) signal.abort();
  };
  // A client gone before this ran would never emit 'close' again.
  if (res.destroyed) onClose();
  else res.once('close', onClose);
  // A request that reaches an upstream gets a usage record, written when the request is over.
  const meter = new UsageMeter();
  request.meter = meter;
  // The waiting queue serves callers fairly by the identity the client limits counted.
  const client = request.client ? { key: request.client.key, priority: request.client.priority } : undefined;
  return { signal, requestId: request.id, receivedAt: request.receivedAt, meter, ...(client ? { client } : {}) };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived, for latency and time-to-first-token. */
    receivedAt: number;
    /** The public model the request named, once known: a metrics label. */
    routeModel: string;
    /** Who is calling (set before any route runs). */
    identity: Identity;
    /** Set for requests that call upstreams: their usage, for the usage record. */
    meter: UsageMeter | undefined;
  }
}
