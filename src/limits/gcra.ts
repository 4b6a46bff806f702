// Exact GCRA in integer arithmetic, the memory backend's core; redis-scripts.ts repeats it in Lua.
//
// A per-minute limit L is a GCRA with emission interval T = 60 s / L and burst L: a request of
// cost n moves the theoretical arrival time (TAT) to max(TAT, now) + n*T and is admitted when
// that new TAT is at most one window (60 s) ahead of now.
//
// Why integers: T is rarely a whole number of ms (60000 / 7), and floats would drift, admitting
// or refusing one request too many at the edges. A TAT is kept as whole ms plus a fraction in
// units of 1/L ms, so T is exactly 60000 units; every quantity stays far below 2^53. (When a
// tier's limit changes, a stored fraction is read in the new units: off by at most old limit /
// new limit ms, once; the next charge normalises it.)
//
// The reset figure of the x-ratelimit-reset-* headers is TAT - now: the time until the budget is
// full again (OpenAI: "until the rate limit resets to its initial state"), not until the next unit.

export const WINDOW_MS = 60_000;
export const DAY_MS = 86_400_000;

/** ms + frac / limit, with 0 <= frac < limit. */
export interface Tat {
  ms: number;
  frac: number;
}

/** max(tat, now): a TAT in the past means the budget is full. */
export function fromNow(tat: Tat, now: number): Tat {
  return tat.ms < now ? { ms: now, frac: 0 } : tat;
}

/** tat + cost emission intervals of a limit; cost may be negative (a refund). */
export function advance(tat: Tat, limit: number, cost: number): Tat {
  const total = tat.frac + cost * WINDOW_MS;
  const whole = Math.floor(total / limit);
  return { ms: tat.ms + whole, frac: total - whole * limit };
}

/** ms (rounded up) until `tat` is no more than one window ahead: 0 when admitted now. */
export function waitMs(tat: Tat, now: number): number {
  const over = tat.ms - now - WINDOW_MS;
  if (over < 0 || (over === 0 && tat.frac === 0)) return 0;
  return tat.frac > 0 ? over + 1 : over;
}

/** Whole units spendable now, and ms (rounded up) until nothing is left to refill. */
export function budgetOf(stored: Tat, limit: number, now: number): { limit: number; remaining: number; resetMs: number } {
  const tat = fromNow(stored, now);
  const slack = (now + WINDOW_MS - tat.ms) * limit - tat.frac;
  return {
    limit,
    remaining: Math.max(0, Math.floor(slack / WINDOW_MS)),
    resetMs: tat.ms - now + (tat.frac > 0 ? 1 : 0),
  };
}

/**
 * An estimate as whole tokens. Capped far above any limit so Lua's doubles stay exact (a huge
 * estimate is refused for good either way); NaN or a negative count is a caller's bug.
 */
export function tokenCost(estimate: number): number {
  if (!(estimate >= 0)) throw new RangeError(`estimatedTokens must be a count of tokens, got ${estimate}`);
  return Math.min(Math.ceil(estimate), 1e11);
}

/** The UTC day number of a time, and when it ends. */
export const dayOf = (now: number): number => Math.floor(now / DAY_MS);
export const untilMidnight = (now: number): number => (dayOf(now) + 1) * DAY_MS - now;

/**
 * Keeps the refusal that waits longest; `null` (never admissible) beats any wait. Checks run in
 * LIMIT_NAMES order and a tie keeps the first, in both backends.
 */
export class RefusalPicker<Name> {
  limit: Name | undefined = undefined;
  wait: number | null = 0;

  refuse(limit: Name, wait: number | null): void {
    if (this.wait === null) return;
    if (this.limit === undefined || wait === null || wait > this.wait) {
      this.limit = limit;
      this.wait = wait;
    }
  }
}
