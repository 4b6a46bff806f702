// OpenAI-style x-ratelimit-* headers over a fixed one-minute window, so the gateway can learn an
// upstream's budget from headers the way it would from the real API. The simulator never enforces
// these limits itself; only the 429 fault refuses requests.

export const REQUEST_LIMIT_PER_MINUTE = 10_000;
export const TOKEN_LIMIT_PER_MINUTE = 10_000_000;
const WINDOW_MS = 60_000;

/** Formats a duration the way OpenAI does in x-ratelimit-reset-*: "20ms", "1.5s", "6m0s". */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms - minutes * 60_000) / 1000)}s`;
}

export class RateWindow {
  private windowStart = Date.now();
  private requests = 0;
  private tokens = 0;

  private roll(now: number): void {
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.requests = 0;
      this.tokens = 0;
    }
  }

  /** Records one request and returns the headers to send with its answer. */
  record(tokens: number, now = Date.now()): Record<string, string> {
    this.roll(now);
    this.requests++;
    this.tokens += tokens;
    const reset = formatResetDuration(this.windowStart + WINDOW_MS - now);
    return {
      'x-ratelimit-limit-requests': String(REQUEST_LIMIT_PER_MINUTE),
      'x-ratelimit-remaining-requests': String(Math.max(0, REQUEST_LIMIT_PER_MINUTE - this.requests)),
      'x-ratelimit-reset-requests': reset,
      'x-ratelimit-limit-tokens': String(TOKEN_LIMIT_PER_MINUTE),
      'x-ratelimit-remaining-tokens': String(Math.max(0, TOKEN_LIMIT_PER_MINUTE - this.tokens)),
      'x-ratelimit-reset-tokens': reset,
    };
  }
}

/** Headers of a simulated 429: the request budget is spent until Retry-After has passed. */
export function rateLimitedHeaders(retryAfterSeconds: number): Record<string, string> {
  const ms = Math.round(retryAfterSeconds * 1000);
  return {
    'retry-after': String(Math.ceil(retryAfterSeconds)),
    'retry-after-ms': String(ms),
    'x-ratelimit-limit-requests': String(REQUEST_LIMIT_PER_MINUTE),
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': formatResetDuration(ms),
    'x-ratelimit-limit-tokens': String(TOKEN_LIMIT_PER_MINUTE),
    'x-ratelimit-remaining-tokens': String(TOKEN_LIMIT_PER_MINUTE),
    'x-ratelimit-reset-tokens': '0ms',
  };
}
