// GatewayError is the one error type that crosses module boundaries. Callers decide on `code`,
// `status` and `retryable`, never on message text. http/error-reply.ts turns it into OpenAI's envelope.

import type { ErrorBody } from './openai-types.js';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'upstream_error'
  | 'service_unavailable';

export interface GatewayErrorOptions {
  status: number;
  type: ErrorType;
  code: string;
  param?: string | null;
  retryable?: boolean;
  /** Seconds the caller should wait before retrying, sent as Retry-After. */
  retryAfterSeconds?: number;
  /** The upstream's own wait, when it gave one more precisely (retry-after-ms). */
  retryAfterMs?: number;
  /** Which deployment failed; never a URL or key. */
  deployment?: string;
  /**
   * A refusal that by design hits many requests at once (load shedding, a full or unreachable
   * history, shutdown): logged at debug, not once per request at warn. Their causes log themselves
   * once (throttled), and metrics count every refusal.
   */
  shedding?: boolean;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly deployment: string | undefined;
  readonly shedding: boolean;
  /** Upstream calls made before giving up; set by the router, sent as x-floodgate-attempts. */
  attempts: number | undefined;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = options.status;
    this.type = options.type;
    this.code = options.code;
    this.param = options.param ?? null;
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryAfterMs = options.retryAfterMs ?? (options.retryAfterSeconds === undefined ? undefined : options.retryAfterSeconds * 1000);
    this.deployment = options.deployment;
    this.shedding = options.shedding ?? false;
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError(`The model '${model}' does not exist or you do not have access to it.`, {
    status: 404,
    type: 'invalid_request_error',
    code: 'model_not_found',
    param: 'model',
  });

export const shuttingDown = (): GatewayError =>
  new GatewayError('The server is shutting down; retry on another instance.', {
    status: 503,
    type: 'service_unavailable',
    code: 'shutting_down',
    shedding: true,
    retryable: true,
    retryAfterSeconds: 1,
  });

export const internalError = (): GatewayError =>
  new GatewayError('The server had an error while processing your request.', {
    status: 500,
    type: 'server_error',
    code: 'internal_error',
  });

/** True for the errors an aborted call rejects with (client gone, deadline), from fetch or undici. */
export function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'AbortError' || (error as { code?: string } | null)?.code === 'UND_ERR_ABORTED';
}

/** The client went away; nobody reads this reply, but logs and metrics should say what happened. */
export const clientClosed = (): GatewayError =>
  new GatewayError('The client closed the connection before the response was complete.', {
    status: 499, type: 'invalid_request_error', code: 'client_closed_request',
  });

/** The request's total time (routing.total_timeout_ms) ran out, attempts and stream included. */
export const requestTimedOut = (ms: number): GatewayError =>
  new GatewayError(`The request did not complete within the gateway's limit of ${ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`}.`, {
    status: 504, type: 'upstream_error', code: 'request_timeout', retryable: true,
  });
