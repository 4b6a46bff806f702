// How the history's failures reach a caller: always a 503 with Retry-After, never a hang or a 500,
// when the fault is the storage's (Redis or the database out of reach, or behind), so clients and
// load balancers retry instead of giving up. A bug stays a bug: only errors that mean "storage
// unreachable" become history_unavailable; anything else is rethrown as it is.
import { GatewayError } from '../core/errors.js';
import { describeError, type Logger } from '../observability/logger.js';

const retryAfter = (retryMs: number): number => Math.max(1, Math.ceil(retryMs / 1000));

/** The hot buffer (memory or the stream) holds as much as it may: shed until the flush catches up. */
export function historyBacklog(retryMs: number): GatewayError {
  return new GatewayError('History storage is behind; the request was not accepted. Retry shortly.', {
    status: 503, type: 'service_unavailable', code: 'history_backlog', shedding: true, retryable: true, retryAfterSeconds: retryAfter(retryMs),
  });
}

/** Redis or the database did not answer (down, timed out, connection lost). */
export function historyUnavailable(retryMs: number, cause: unknown): GatewayError {
  return new GatewayError('History storage is not reachable right now; retry shortly.', {
    status: 503, type: 'service_unavailable', code: 'history_unavailable', shedding: true, retryable: true, retryAfterSeconds: retryAfter(retryMs), cause,
  });
}

/** Socket-level failures, as Node and node-postgres report them. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * True for errors that mean the database (or Redis) could not be reached or dropped the
 * connection. SQLSTATE classes: 08 connection exception, 57P01-57P03 shutdown/cannot connect now,
 * 53 insufficient resources (too many connections). pg-pool's own connect timeout carries no code,
 * so it is recognised by its message: the one place where text decides.
 */
export function isUnreachable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code) || code.startsWith('08') || code.startsWith('53') || /^57P0[123]$/.test(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (/^(timeout exceeded when trying to connect|Connection terminated)/.test(message)) return true;
  return e.cause !== undefined && e.cause !== error && isUnreachable(e.cause);
}

/** What may be logged of a storage error: its name, code and message, never the rows it carried. */
export function errorSummary(error: unknown): { name: string; code?: string; message?: string } {
  const e = error as { message?: unknown } | null;
  return {
    ...describeError(error),
    // Driver messages name the failure ("connect ECONNREFUSED 127.0.0.1:5432"), not row values.
    ...(typeof e?.message === 'string' ? { message: e.message.slice(0, 300) } : {}),
  };
}

/** A write-failure reporter for the flushers and the memory buffer: one warn line per failure. */
export function logWriteFailure(logger: Logger, where: string): (error: unknown) => void {
  return (error) => logger.warn({ err: errorSummary(error), where }, 'history flush failed; the batch is kept and retried');
}

/**
 * A warn logger for failures that repeat on every request during an outage: one line per
 * `intervalMs` at most, saying how many were not logged in between.
 */
export function throttledWarn(logger: Logger, intervalMs = 10_000, now: () => number = Date.now) {
  let last = -Infinity;
  let suppressed = 0;
  return (error: unknown, message: string): void => {
    if (now() - last < intervalMs) {
      suppressed += 1;
      return;
    }
    logger.warn({ err: errorSummary(error), ...(suppressed > 0 ? { suppressed } : {}) }, message);
    last = now();
    suppressed = 0;
  };
}
