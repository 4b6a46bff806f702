// The retry budget: extra upstream attempts (retries and fallbacks) may be at most `ratio` of the
// requests seen, with a small floor so a quiet gateway still fails over. Without it a full outage
// multiplies load on every upstream by max_attempts, just when they can least take it.
//
// It is a token bucket: each request deposits `ratio` of a retry, each retry spends a whole one.
// So once the bucket has run dry, retries are at most ratio x requests + 1 over any stretch of
// time, spread evenly (every fifth request at 20 %) rather than bunched at the start of each
// counting window. The bucket starts with `min_retries` in it, so a freshly started gateway can
// fail over before it has seen enough requests to earn retries, and it holds at most one window's
// deposits (or min_retries), so a long calm spell does not bank a storm of retries.
// The floor: `min_retries` per window are granted even with an empty bucket, for quiet gateways.
import type { RoutingConfig } from '../config/config.js';
import { SlidingCounts } from './sliding-window.js';

export type RetryBudgetSettings = RoutingConfig['retry_budget'];

const REQUESTS = 0;
const RETRIES = 1;
/** Tokens are kept in millionths of a retry: adding 0.2 a hundred times must make exactly 20. */
const ONE = 1_000_000;

export class RetryBudget {
  private tokens: number;
  private readonly deposit: number;
  private readonly window: SlidingCounts;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.window = new SlidingCounts(settings.window_s, 2);
    this.deposit = Math.round(settings.ratio * ONE);
    this.tokens = settings.min_retries * ONE;
  }

  /** Counts a request (its first attempt is always allowed) and deposits its share of a retry. */
  recordRequest(): void {
    const now = this.now();
    this.window.add(now, REQUESTS);
    const [requests = 0] = this.window.totals(now);
    this.tokens = Math.min(this.tokens + this.deposit, Math.max(ONE, this.settings.min_retries * ONE, requests * this.deposit));
  }

  /** Takes one retry from the budget when there is one left. */
  tryAcquire(): boolean {
    const now = this.now();
    if (this.tokens >= ONE) {
      this.tokens -= ONE;
    } else {
      const [, retries = 0] = this.window.totals(now);
      if (retries >= this.settings.min_retries) return false;
    }
    this.window.add(now, RETRIES);
    return true;
  }
}
