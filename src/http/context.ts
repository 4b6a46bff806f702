// Per-request plumbing shared by the endpoint handlers: the abort signal tied to the client's
// connection, and the identifiers echoed in response headers.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CancelSignal } from '../core/cancel.js';
import type { RequestContext } from '../pipeline/chat.js';

/** The upstream call is aborted the moment the client's connection closes before we finished. */
export function requestContext(request: FastifyRequest, reply: FastifyReply): RequestContext {
  const signal = new CancelSignal();
  const res = reply.raw;
  res.once('close', () => {
    if (!res.writableFinished) signal.abort();
  });
  return { signal, requestId: request.id, receivedAt: request.receivedAt };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived, for latency and time-to-first-token. */
    receivedAt: number;
    /** The public model the request named, once known: a metrics label. */
    routeModel: string;
  }
}
