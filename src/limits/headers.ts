// What a decision tells the client: OpenAI's x-ratelimit-* headers and, for a refusal, the 429
// (or, for a request that could never fit, a 400) in OpenAI's words. No HTTP here: the caller
// sets the headers and throws the error.
import { GatewayError } from '../core/errors.js';
import type { Budget, Budgets, LimitRequest, Refused } from './types.js';

/**
 * A duration the way OpenAI writes x-ratelimit-reset-*, Go's time.Duration style on whole ms:
 * "0s", "20ms", "1s", "59.2s", "6m0s", "1h0m0s".
 */
export function formatResetDuration(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  // Whole ms, so three decimals at most; trailing zeros (and a bare point) dropped.
  const seconds = String((whole % 60_000) / 1000);
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the budgets a tier enforces. */
export function rateLimitHeaders(budgets: Budgets): Record<string, string> {
  const headers: Record<string, string> = {};
  const add = (kind: 'requests' | 'tokens', budget: Budget | undefined) => {
    if (!budget) return;
    headers[`x-ratelimit-limit-${kind}`] = String(budget.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(budget.remaining);
    headers[`x-ratelimit-reset-${kind}`] = formatResetDuration(budget.resetMs);
  };
  add('requests', budgets.requests);
  add('tokens', budgets.tokens);
  return headers;
}

const DESCRIPTIONS = {
  requests: ['requests per minute', 'rpm'],
  tokens: ['tokens per minute', 'tpm'],
  concurrency: ['concurrent requests', 'concurrency'],
  daily_requests: ['requests per day', 'daily_requests'],
  daily_tokens: ['tokens per day', 'daily_tokens'],
} as const;

/**
 * The error for a refusal: 429 rate_limit_exceeded with Retry-After, or, when the request asks
 * for more tokens than the limit can ever hold, a 400 that no client retries (the openai SDK
 * retries every 429 by itself, which would loop forever).
 */
export function rateLimitError(refused: Refused, request: LimitRequest): GatewayError {
  const [what, field] = DESCRIPTIONS[refused.limit];
  const limit = request.limits[field];
  if (refused.retryAfterMs === null) {
    return new GatewayError(
      `Request too large: it needs up to ${Math.ceil(request.estimatedTokens)} tokens (prompt plus max_tokens), more than the limit of ${limit} ${what}. Shorten the prompt or lower max_tokens.`,
      { status: 400, type: 'invalid_request_error', code: 'request_too_large_for_limit', param: 'max_tokens' },
    );
  }
  const wait = refused.retryAfterMs;
  return new GatewayError(`Rate limit reached on ${what}: limit ${limit}. Please try again in ${formatResetDuration(wait)}.`, {
    status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', retryable: true,
    retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)), retryAfterMs: wait,
  });
}
