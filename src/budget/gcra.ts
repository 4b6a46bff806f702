// The arithmetic of one upstream budget dimension (requests or tokens), shared by the memory
// backend and, line for line, by the Redis script (redis-scripts.ts). It is GCRA: the whole state
// is one number, the theoretical arrival time (TAT); `max(0, TAT - now)` is the work still
// "in the bucket", in ms, and each unit adds `inc` ms to it.
//
// Why a small burst (BURST_MS) rather than a minute's worth: upstreams refill continuously
// (OpenAI, Anthropic) and may enforce a per-minute limit over shorter slices (OpenAI documents
// 60,000 rpm enforced as 1,000 a second). A budget that lets at most one second's worth out at
// once, then spaces calls at the configured rate, stays inside such schemes. Not quite a whole
// second's worth, though: calls sent on our schedule reach the upstream a little bunched (network
// and scheduling jitter), and an upstream bucket we had filled to the brim would refuse the one
// that arrives early. Keeping TRANSIT_SLACK_MS of it free absorbs that much jitter, at no cost to
// the sustained rate. A request bigger than the whole burst (a long prompt against a small tpm)
// still goes out, once the bucket is empty, and the debt it leaves holds back the next ones. An
// upstream whose real limits are below the configured ones still answers 429 now and then; the
// router waits those out (router/choice.ts).
//
// Floats are fine here: an upstream's own accounting is not exact to the ms either, and a
// microsecond of slack (EPSILON_MS) keeps rounding from refusing a call that is due.

/** Early arrival an upstream's per-second bucket can absorb when we leave this much of it free. */
const TRANSIT_SLACK_MS = 100;
/** The most work a budget lets out at once, in ms of its rate (at least one unit always fits). */
export const BURST_MS = 1_000 - TRANSIT_SLACK_MS;
const MINUTE_MS = 60_000;
const EPSILON_MS = 1e-3;

export interface Rate {
  /** ms of budget one unit uses: 60,000 / per-minute limit. */
  inc: number;
  /** ms of work the bucket holds: its burst. */
  cap: number;
}

/** A per-minute limit as a rate: spaced evenly, BURST_MS of it (or one unit) at once. */
export function perMinute(limit: number, burstMs = BURST_MS): Rate {
  const inc = MINUTE_MS / limit;
  return { inc, cap: Math.max(inc, burstMs) };
}

/** ms until `units` fit (0: now). */
export function readyIn(tat: number, rate: Rate, units: number, now: number): number {
  const level = Math.max(0, tat - now);
  if (level <= EPSILON_MS) return 0;
  const need = units * rate.inc;
  if (level + need <= rate.cap + EPSILON_MS) return 0;
  // A request bigger than the whole bucket waits for it to empty, not forever.
  return need <= rate.cap ? level + need - rate.cap : level;
}

/** The TAT after `units` were taken (negative units: a refund). */
export function charge(tat: number, rate: Rate, units: number, now: number): number {
  return Math.max(tat, now) + units * rate.inc;
}

/**
 * What an upstream's report says about its own bucket, as a Rate and TAT on our clock: `remaining`
 * units now, all `limit` back after `resetMs`. Refilling continuously, that is one unit every
 * resetMs / (limit - remaining) ms, and the bucket holds `limit` of them. Undefined when the
 * report puts no bound on us (a full budget, or numbers that do not add up).
 */
export function learnedRate(remaining: number, resetMs: number, limit: number, now: number): { rate: Rate; tat: number } | undefined {
  if (!(limit > remaining) || !(resetMs > 0) || remaining < 0) return undefined;
  const inc = resetMs / (limit - remaining);
  return { rate: { inc, cap: limit * inc }, tat: now + resetMs };
}
