// Load shedding: while the process is overloaded, a new request is refused with a 503 and
// Retry-After as soon as its headers are read (onRequest runs before the body is read or parsed),
// so the refusal costs almost nothing and the requests already accepted keep their share.
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { OverloadMonitor, OverloadReason } from './overload-monitor.js';

/** Routes never refused: probes and scrapes must keep answering while the process is loaded. */
export const EXEMPT_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export interface ShedOptions {
  /** Each refusal, for a counter by reason (a log line each would flood the log under load). */
  onShed?: (reason: OverloadReason) => void;
  /** Route patterns (as declared, e.g. '/healthz') never refused nor counted; default EXEMPT_ROUTES. */
  exemptRoutes?: ReadonlySet<string>;
}

export interface Shedding {
  /** HTTP requests accepted and not yet answered (or abandoned by their client). */
  readonly inFlight: number;
}

export const overloaded = (retryAfterSeconds: number): GatewayError =>
  new GatewayError(`The server is overloaded; retry in ${retryAfterSeconds} s.`, {
    status: 503, type: 'service_unavailable', code: 'overloaded', shedding: true, retryable: true, retryAfterSeconds,
  });

/**
 * Adds the onRequest hook that refuses requests while `monitor` says so, and counts the requests
 * it lets through. A refusal goes to the app's error handler (`done(error)`), which sends the
 * envelope and the Retry-After header. Hooks run in the order they were added: add this one after
 * any hook that must see every request (the access log, request metrics), before the routes.
 */
export function shedOverload(fastify: FastifyInstance, monitor: OverloadMonitor, options: ShedOptions = {}): Shedding {
  const exempt = options.exemptRoutes ?? EXEMPT_ROUTES;
  let inFlight = 0;
  const release = (): void => {
    inFlight--;
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && exempt.has(route)) {
      done();
      return;
    }
    // The count excludes this request: with max_in_flight N, N are answered at once.
    const decision = monitor.check(inFlight);
    if (decision.overloaded) {
      options.onShed?.(decision.reason);
      done(overloaded(decision.retryAfterSeconds));
      return;
    }
    // 'close' comes once the response is sent or the client is gone, whichever is first, so an
    // abandoned request stops counting at once. A socket already gone will not emit it again.
    const res = reply.raw;
    if (!res.destroyed) {
      inFlight++;
      res.once('close', release);
    }
    done();
  });

  return {
    get inFlight() {
      return inFlight;
    },
  };
}
