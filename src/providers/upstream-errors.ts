// Turns what an upstream did wrong into a GatewayError with a stable code and `retryable`, naming
// the deployment but never its URL or key. Shared by every adapter.
import { errors as undiciErrors } from 'undici';
import { GatewayError, isAbort } from '../core/errors.js';

export { isAbort };

const URL_PATTERN = /\b(?:https?|wss?):\/\/[^\s"'<>)]+/gi;
const KEY_PATTERN = /\b(?:sk|pk|rk|key|api)[-_][A-Za-z0-9_-]{8,}\b|\bBearer\s+\S+/gi;
const ORG_PATTERN = /\b(?:org|proj|user)-[A-Za-z0-9]{6,}\b/g;
/** Google API keys (Gemini): "AIza" and 35 more characters, with no separator after the prefix. */
const GOOGLE_KEY_PATTERN = /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g;

/**
 * Upstream error text is useful to the caller ("maximum context length is 16384 tokens") but may
 * echo a URL, a key prefix or an account id; those are cut out, and the text is kept short.
 */
export function scrubUpstreamText(text: string): string {
  const clean = text.replace(URL_PATTERN, '[url]').replace(KEY_PATTERN, '[redacted]').replace(ORG_PATTERN, '[account]').replace(GOOGLE_KEY_PATTERN, '[redacted]');
  return clean.length > 500 ? `${clean.slice(0, 500)}…` : clean;
}

/** Reads an upstream's error body (any provider's shape) into a short, safe message. */
export function upstreamMessage(body: unknown): { message?: string; code?: string; type?: string; param?: string } {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === 'string') return { message: scrubUpstreamText(error) };
    if (error && typeof error === 'object') {
      const e = error as Record<string, unknown>;
      return {
        ...(typeof e.message === 'string' ? { message: scrubUpstreamText(e.message) } : {}),
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
        ...(typeof e.type === 'string' ? { type: e.type } : {}),
        ...(typeof e.param === 'string' ? { param: e.param } : {}),
      };
    }
  }
  return {};
}

/** How long the upstream asked us to wait, in ms: retry-after-ms (OpenAI, Azure) wins over Retry-After. */
function retryAfterMs(headers: Record<string, string | string[] | undefined>): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Out-of-credit answers that do not say 402: OpenAI's 429 insufficient_quota, Anthropic's 400
 * "Your credit balance is too low".
 */
function isOutOfCredit(status: number, up: { message?: string; code?: string }): boolean {
  if (status === 429) return up.code === 'insufficient_quota';
  return status === 400 && /credit balance is too low|insufficient (?:credits|balance|quota)/i.test(up.message ?? '');
}

/** An HTTP error status from an upstream. */
export function fromUpstreamStatus(
  deployment: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
): GatewayError {
  const up = upstreamMessage(body);
  const detail = up.message ? `: ${up.message}` : '';
  const waitMs = retryAfterMs(headers);
  // The caller's Retry-After is whole seconds; the router keeps the exact window for its cooldown.
  const wait = waitMs === undefined ? {} : { retryAfterSeconds: Math.ceil(waitMs / 1000), retryAfterMs: waitMs };
  if (status === 402 || isOutOfCredit(status, up)) {
    // The gateway's account with this upstream is out of money: its fault, not the caller's, and
    // another deployment (another account or provider) may well answer.
    return new GatewayError(`Upstream ${deployment} refused the gateway's account: its credit or quota is exhausted.`, {
      status: 502, type: 'upstream_error', code: 'upstream_billing', deployment,
    });
  }
  if (status === 408 || status === 504) {
    return new GatewayError(`Upstream ${deployment} timed out (${status})${detail}`, {
      status: 504, type: 'upstream_error', code: 'upstream_timeout', retryable: true, deployment, ...wait,
    });
  }
  if (status === 400 || status === 413 || status === 422) {
    // The request itself is at fault (context too long, bad image, content policy): the caller
    // must change it, so the upstream's words go back with OpenAI's 400.
    return new GatewayError(up.message ?? `Upstream ${deployment} rejected the request.`, {
      status: 400, type: 'invalid_request_error', code: up.code ?? 'upstream_bad_request', param: up.param ?? null, deployment,
    });
  }
  if (status === 429) {
    return new GatewayError(`Upstream ${deployment} is rate limited${detail}`, {
      status: 429, type: 'rate_limit_error', code: 'upstream_rate_limited', retryable: true, deployment, ...wait,
    });
  }
  if (status === 401 || status === 403) {
    return new GatewayError(`Upstream ${deployment} refused the gateway's credentials (${status}).`, {
      status: 502, type: 'upstream_error', code: 'upstream_auth_failed', deployment,
    });
  }
  if (status === 404) {
    return new GatewayError(`Upstream ${deployment} does not know the configured model (404).`, {
      status: 502, type: 'upstream_error', code: 'upstream_model_missing', deployment,
    });
  }
  const overloaded = status === 503 || status === 529;
  return new GatewayError(`Upstream ${deployment} failed with status ${status}${detail}`, {
    status: overloaded ? 503 : 502, type: 'upstream_error', code: overloaded ? 'upstream_unavailable' : 'upstream_error',
    retryable: status >= 500 || status === 408, deployment, ...wait,
  });
}

/** A transport failure: refused, reset, timed out. Abort errors are passed through untouched. */
export function fromTransportError(deployment: string, error: unknown): unknown {
  if (error instanceof GatewayError) return error;
  if (isAbort(error)) return error;
  const code = (error as { code?: string }).code ?? '';
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
    const phase = error instanceof undiciErrors.BodyTimeoutError ? 'went idle mid-response' : 'did not answer in time';
    return new GatewayError(`Upstream ${deployment} ${phase}.`, {
      status: 504, type: 'upstream_error', code: 'upstream_timeout', retryable: true, deployment, cause: error,
    });
  }
  const what =
    code === 'ECONNREFUSED' ? 'refused the connection'
    : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'closed the connection unexpectedly'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'could not be resolved'
    : 'could not be reached';
  return new GatewayError(`Upstream ${deployment} ${what}.`, {
    status: 502, type: 'upstream_error', code: 'upstream_unreachable', retryable: true, deployment, cause: error,
  });
}

export function malformedUpstream(deployment: string, what: string): GatewayError {
  return new GatewayError(`Upstream ${deployment} sent ${what}.`, {
    status: 502, type: 'upstream_error', code: 'upstream_malformed', retryable: true, deployment,
  });
}

/**
 * A request an adapter cannot translate is the caller's 400, but it names the deployment like
 * any failure does, so logs and the x-floodgate-deployment header say where it happened.
 */
export function attributed<T>(deployment: string, translate: () => T): T {
  try {
    return translate();
  } catch (error) {
    if (!(error instanceof GatewayError) || error.deployment !== undefined) throw error;
    const { status, type, code, param, retryable } = error;
    throw new GatewayError(error.message, { status, type, code, param, retryable, deployment });
  }
}
