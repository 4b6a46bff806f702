// Anthropic's in-band stream errors (`event: error`) carry an error type but no status. Each type
// maps to the status Anthropic documents for it (docs.anthropic.com/en/api/errors), so a failure
// mid-stream is judged by the same rules as the HTTP error it stands for (overloaded_error is a
// 529: retryable, 503 to the client).
import type { GatewayError } from '../../core/errors.js';
import { fromUpstreamStatus } from '../upstream-errors.js';

const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export function fromStreamError(deployment: string, body: unknown): GatewayError {
  const type = (body as { error?: { type?: unknown } } | null)?.error?.type;
  const status = typeof type === 'string' ? (STATUS_BY_TYPE[type] ?? 500) : 500;
  return fromUpstreamStatus(deployment, status, {}, body);
}
