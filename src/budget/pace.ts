// How much of a deployment's budget to use, learned from its 429s: additive increase,
// multiplicative decrease, as TCP finds a link's capacity. A 429 we did not expect (the budget
// let the call out) means the upstream allows less than we believe: the configured figure was a
// guess, or others share the upstream account. Each such episode cuts the pace by a tenth; every
// quiet stretch gives a little back, up to the whole budget, so the pace saws gently just under
// what the upstream allows instead of running into its 429s at the configured rate. Upstreams that report their limits
// in headers are paced by those instead (deployment-budget.ts); this is for those that do not
// (Gemini, proxies, self-hosted servers behind a limiter), and for shared accounts.
//
// Per node: each node sees its own 429s, and with N nodes sharing one Redis budget all of them
// meet the same refusals, so they slow down together.

/**
 * After a cut, the upstream's bucket takes about its burst window (OpenAI's: a second) to drain
 * what the old pace put in it: 429s to calls made in that time are the same episode.
 */
const EPISODE_MS = 1_000;
/** Quiet time after which a step of the pace comes back. */
const RAISE_EVERY_MS = 10_000;
const CUT = 0.9;
const RAISE = 0.05;
/** Never below this share: the Retry-After holds do the rest. */
const FLOOR = 0.1;

export class Pace {
  private factor = 1;
  /** When the factor last changed (a cut, or the last step of recovery). */
  private changedAt = -Infinity;
  private cutAt = -Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  /** The share of the budget to use now (1: all of it); advances the recovery first. */
  share(): number {
    if (this.factor < 1) {
      const steps = Math.floor((this.now() - this.changedAt) / RAISE_EVERY_MS);
      if (steps > 0) {
        this.factor = Math.min(1, thousandths(this.factor + steps * RAISE));
        this.changedAt += steps * RAISE_EVERY_MS;
      }
    }
    return this.factor;
  }

  /**
   * The upstream refused a call made at `calledAt`; true when that cut the pace. One cut per
   * episode, as TCP cuts once per window: a call made before the last cut, or while the upstream
   * was still draining what the old pace sent, says nothing the cut has not already heard.
   */
  refused(calledAt = this.now()): boolean {
    const now = this.now();
    if (calledAt < this.cutAt + EPISODE_MS) return false;
    this.factor = Math.max(FLOOR, thousandths(this.share() * CUT));
    this.changedAt = now;
    this.cutAt = now;
    return true;
  }
}

/** Shares are kept to 0.001, so steps up and down add up exactly (0.8 + 0.05 is 0.85, not 0.8500000000000001). */
const thousandths = (x: number): number => Math.round(x * 1000) / 1000;
