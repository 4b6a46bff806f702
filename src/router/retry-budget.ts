// The retry budget: extra upstream attempts (retries and fallbacks) may be at most `ratio` of the
// requests seen over a sliding window, with a small floor so a quiet gateway still fails over.
// Without it a full outage multiplies load on every upstream by max_attempts, just when they can
// least take it; with it, attempts per request stay at or below 1 + ratio under load.
import type { RoutingConfig } from '../config/config.js';
import { SlidingCounts } from './sliding-window.js';

export type RetryBudgetSettings = RoutingConfig['retry_budget'];

const REQUESTS = 0;
const RETRIES = 1;

export class RetryBudget {
  private readonly window: SlidingCounts;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.window = new SlidingCounts(settings.window_s, 2);
  }

  /** Counts a request (its first attempt is always allowed). */
  recordRequest(): void {
    this.window.add(this.now(), REQUESTS);
  }

  /** Takes one retry from the budget when there is one left. */
  tryAcquire(): boolean {
    const now = this.now();
    const [requests = 0, retries = 0] = this.window.totals(now);
    const allowed = Math.max(this.settings.min_retries, Math.floor(requests * this.settings.ratio));
    if (retries >= allowed) return false;
    this.window.add(now, RETRIES);
    return true;
  }
}
