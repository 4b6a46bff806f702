// Anthropic's anthropic-ratelimit-* response headers (docs.anthropic.com/en/api/rate-limits):
// limit and remaining as numbers, reset as an RFC 3339 time. They are derived from the same
// one-minute window the OpenAI route reports, so the simulator is one account whatever the wire
// format. The simulator keeps a single token budget, so the input- and output-token headers
// repeat the combined one.
import { REQUEST_LIMIT_PER_MINUTE, TOKEN_LIMIT_PER_MINUTE, type RateWindow } from './rate-headers.js';

/** Parses rate-headers' "20ms" / "1.5s" / "6m0s" back into milliseconds. */
function durationMs(text: string | undefined): number {
  const match = /^(?:(\d+)m)?(?:([\d.]+)s)?(?:(\d+)ms)?$/.exec(text ?? '');
  if (!match) return 0;
  return Number(match[1] ?? 0) * 60_000 + Number(match[2] ?? 0) * 1000 + Number(match[3] ?? 0);
}

/** RFC 3339 at whole seconds, rounded up so a client waiting until then is never early. */
function rfc3339(at: number): string {
  return new Date(Math.ceil(at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function window(prefix: string, limit: number, remaining: number, resetAt: number): Record<string, string> {
  return {
    [`anthropic-ratelimit-${prefix}-limit`]: String(limit),
    [`anthropic-ratelimit-${prefix}-remaining`]: String(remaining),
    [`anthropic-ratelimit-${prefix}-reset`]: rfc3339(resetAt),
  };
}

/** Records one answered request and returns its headers. */
export function recordAnthropicRate(rateWindow: RateWindow, tokens: number, now = Date.now()): Record<string, string> {
  const openai = rateWindow.record(tokens, now);
  const resetAt = now + durationMs(openai['x-ratelimit-reset-requests']);
  const requests = Number(openai['x-ratelimit-remaining-requests']);
  const tokensLeft = Number(openai['x-ratelimit-remaining-tokens']);
  return {
    ...window('requests', REQUEST_LIMIT_PER_MINUTE, requests, resetAt),
    ...window('tokens', TOKEN_LIMIT_PER_MINUTE, tokensLeft, resetAt),
    ...window('input-tokens', TOKEN_LIMIT_PER_MINUTE, tokensLeft, resetAt),
    ...window('output-tokens', TOKEN_LIMIT_PER_MINUTE, tokensLeft, resetAt),
  };
}

/** A simulated 429: no requests left until Retry-After has passed. */
export function anthropicRateLimitedHeaders(retryAfterSeconds: number, now = Date.now()): Record<string, string> {
  const resetAt = now + retryAfterSeconds * 1000;
  return {
    'retry-after': String(Math.ceil(retryAfterSeconds)),
    ...window('requests', REQUEST_LIMIT_PER_MINUTE, 0, resetAt),
    ...window('tokens', TOKEN_LIMIT_PER_MINUTE, TOKEN_LIMIT_PER_MINUTE, now),
    ...window('input-tokens', TOKEN_LIMIT_PER_MINUTE, TOKEN_LIMIT_PER_MINUTE, now),
    ...window('output-tokens', TOKEN_LIMIT_PER_MINUTE, TOKEN_LIMIT_PER_MINUTE, now),
  };
}
