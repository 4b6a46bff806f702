// Gemini's errors (google.rpc.Status: `{"error":{"code","message","status","details"}}`) as
// GatewayErrors. The shared mapping in upstream-errors.ts does the work; this adds what only
// Gemini says: the wait in a google.rpc.RetryInfo detail (Gemini sends no Retry-After header),
// a bad key reported as 400 INVALID_ARGUMENT, and statuses whose meaning differs from OpenAI's.
import { GatewayError } from '../../core/errors.js';
import { fromUpstreamStatus, upstreamMessage } from '../upstream-errors.js';

type Headers = Record<string, string | string[] | undefined>;

interface RpcStatus {
  code?: unknown;
  status?: unknown;
  details?: unknown;
}

function rpcStatus(body: unknown): RpcStatus {
  const error = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return error !== null && typeof error === 'object' ? (error as RpcStatus) : {};
}

function details(status: RpcStatus): Array<Record<string, unknown>> {
  return Array.isArray(status.details) ? status.details.filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object') : [];
}

function detail(status: RpcStatus, type: string): Record<string, unknown> | undefined {
  return details(status).find((d) => typeof d['@type'] === 'string' && d['@type'].endsWith(`/google.rpc.${type}`));
}

/** A protobuf Duration in JSON ("7s", "0.25s") as milliseconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
}

/** Milliseconds to wait from google.rpc.RetryInfo, if the error carries one. */
export function retryDelayMs(body: unknown): number | undefined {
  return parseDuration(detail(rpcStatus(body), 'RetryInfo')?.retryDelay);
}

function hasHeader(headers: Headers, name: string): boolean {
  return headers[name] !== undefined;
}

/** An HTTP error status from Gemini. */
export function fromGeminiStatus(deployment: string, status: number, headers: Headers, body: unknown): GatewayError {
  const rpc = rpcStatus(body);
  const message = upstreamMessage(body).message;
  const reason = detail(rpc, 'ErrorInfo')?.reason;
  if (reason === 'API_KEY_INVALID' || reason === 'API_KEY_SERVICE_BLOCKED') {
    // Gemini reports a bad key as 400 INVALID_ARGUMENT; it is the gateway's credential, not the caller's request.
    return fromUpstreamStatus(deployment, 401, headers, body);
  }
  if (rpc.status === 'FAILED_PRECONDITION') {
    // e.g. "free tier is not available in your country": this deployment cannot serve, another may.
    return new GatewayError(`Upstream ${deployment} cannot serve requests${message ? `: ${message}` : '.'}`, {
      status: 502, type: 'upstream_error', code: 'upstream_unavailable', retryable: true, deployment,
    });
  }
  if (status === 504) {
    return new GatewayError(`Upstream ${deployment} did not answer in time (DEADLINE_EXCEEDED).`, {
      status: 504, type: 'upstream_error', code: 'upstream_timeout', retryable: true, deployment,
    });
  }
  const wait = retryDelayMs(body);
  const withWait = wait !== undefined && !hasHeader(headers, 'retry-after') && !hasHeader(headers, 'retry-after-ms')
    ? { ...headers, 'retry-after-ms': String(wait) }
    : headers;
  return fromUpstreamStatus(deployment, status, withWait, body);
}

/** An `{"error":{...}}` event inside a 200 stream: mapped as if its code had been the HTTP status. */
export function fromGeminiStreamError(deployment: string, body: unknown): GatewayError {
  const code = rpcStatus(body).code;
  const status = typeof code === 'number' && code >= 400 && code <= 599 ? code : 502;
  return fromGeminiStatus(deployment, status, {}, body);
}
