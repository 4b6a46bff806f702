// The client rate limiter's contract, shared by the memory and Redis backends and the fallback
// that composes them. The HTTP layer asks for one decision per request and gets either an
// admission (to release and reconcile later) or a refusal saying which limit and for how long.
//
// Semantics (the same in every backend, see gcra.ts):
// - rpm and tpm are GCRA with a burst of the whole limit: a caller may spend a minute's budget at
//   once, then it refills continuously, one request every 60 s / rpm (one token every 60 s / tpm).
// - concurrency counts requests admitted and not yet released.
// - daily_requests and daily_tokens count per UTC day and reset at 00:00 UTC.
// - A request is checked against every limit of its tier and charged to all of them only if all
//   pass: a refusal charges nothing.

/** The limits of one tier; a limit left out (or 0) is not enforced. TierConfig fits this shape. */
export interface TierLimits {
  rpm?: number | undefined;
  tpm?: number | undefined;
  concurrency?: number | undefined;
  daily_requests?: number | undefined;
  daily_tokens?: number | undefined;
}

/** Which limit refused a request (names as in the OpenAI-style error message and metrics). */
export type LimitName = 'requests' | 'tokens' | 'concurrency' | 'daily_requests' | 'daily_tokens';

export interface LimitRequest {
  /** Whose budget: `ip:203.0.113.7`, `key:team-a`, ... */
  identity: string;
  limits: TierLimits;
  /** Tokens reserved at admission: the prompt's count plus max_tokens. Rounded up; NaN or negative throws. */
  estimatedTokens: number;
}

/** One per-minute budget, as OpenAI's x-ratelimit-{limit,remaining,reset}-* headers carry it. */
export interface Budget {
  limit: number;
  /** Whole requests (or tokens) that could be spent right now. */
  remaining: number;
  /** Until the budget is full again (nothing left to refill), in ms. */
  resetMs: number;
}

/** The per-minute budgets after the decision; a budget is absent when its limit is not enforced. */
export interface Budgets {
  requests?: Budget;
  tokens?: Budget;
}

export type BackendName = 'memory' | 'redis';

export interface Settlement {
  /**
   * The gateway turned the request away for want of upstream capacity (its waiting queue refused
   * it, or an upstream's 429 was passed on): it does not count against the daily request quota.
   * Its per-minute charge stays, so a client looping on such refusals is still rate limited.
   */
  unserved?: boolean;
}

export interface Admission {
  /** Frees the concurrency slot. Idempotent; never rejects. */
  release(): Promise<void>;
  /**
   * Replaces the estimate with the real usage: refunds the difference, or charges it (even past
   * the limit: the tokens were spent). Only the first valid call counts (NaN or a negative count
   * is ignored); never rejects.
   */
  reconcile(actualTokens: number, settlement?: Settlement): Promise<void>;
}

export interface Admitted {
  allowed: true;
  admission: Admission;
  budgets: Budgets;
  /** Which store decided (the Redis limiter falls back to memory while Redis is unreachable). */
  backend: BackendName;
}

export interface Refused {
  allowed: false;
  /** The limit that keeps the request out longest. */
  limit: LimitName;
  /**
   * When this same request would be admitted if nothing else happened meanwhile, in ms (rounded
   * up). null: never, because it asks for more tokens than the limit can ever hold. A full
   * concurrency limit gives a fixed hint (a slot frees whenever a request in flight ends).
   */
  retryAfterMs: number | null;
  budgets: Budgets;
  backend: BackendName;
}

export type Decision = Admitted | Refused;

export interface RateLimiter {
  decide(request: LimitRequest): Promise<Decision>;
  close(): Promise<void>;
}

/** Milliseconds since the Unix epoch; injectable so tests move time by hand. */
export type Clock = () => number;

/** Codes for the limit names, as the Redis script returns them (index + 1). */
export const LIMIT_NAMES: readonly LimitName[] = ['requests', 'tokens', 'concurrency', 'daily_requests', 'daily_tokens'];

/** A full concurrency limit cannot say when a slot frees; clients are told to retry after this. */
export const DEFAULT_CONCURRENCY_RETRY_MS = 1_000;
