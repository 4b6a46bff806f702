// A circuit breaker for one deployment. Closed: calls flow and outcomes are counted. Open: the
// deployment is skipped until its open period ends. Half-open: one probe call at a time decides;
// success closes the breaker, failure reopens it for twice as long (up to a ceiling), so a dead
// upstream costs one probe per period instead of a share of all traffic.
import type { RoutingConfig } from '../config/config.js';
import { SlidingCounts } from './sliding-window.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export type BreakerSettings = RoutingConfig['breaker'];

const CALLS = 0;
const FAILURES = 1;

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openUntil = 0;
  private openMs: number;
  private probeInFlight = false;
  /** Calls (field 0) and failures (field 1) per second over the failure-rate window. */
  private readonly window: SlidingCounts;

  constructor(
    private readonly settings: BreakerSettings,
    private readonly now: () => number = Date.now,
    /** Told of every state change, for metrics and logs. */
    private readonly onChange: (state: BreakerState) => void = () => {},
  ) {
    this.openMs = settings.open_ms;
    this.window = new SlidingCounts(settings.window_s, 2);
  }

  /** The state as of now: an open breaker whose period has ended reads as half-open. */
  current(): BreakerState {
    if (this.state === 'open' && this.now() >= this.openUntil) this.transition('half_open');
    return this.state;
  }

  /** Whether a call may go out now; in half-open, only one probe at a time. */
  allows(): boolean {
    const state = this.current();
    if (state === 'closed') return true;
    if (state === 'half_open') return !this.probeInFlight;
    return false;
  }

  /** A call is going out; returns true when it is the half-open probe. */
  begin(): boolean {
    if (this.current() === 'half_open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return true;
    }
    return false;
  }

  success(probe: boolean): void {
    if (probe) this.probeInFlight = false;
    this.consecutiveFailures = 0;
    if (this.state !== 'closed' && (probe || this.current() === 'half_open')) {
      this.openMs = this.settings.open_ms;
      this.window.clear();
      this.transition('closed');
      return;
    }
    this.window.add(this.now(), CALLS);
  }

  failure(probe: boolean): void {
    if (probe) this.probeInFlight = false;
    const now = this.now();
    if (this.current() === 'half_open') {
      this.openMs = Math.min(this.openMs * 2, this.settings.max_open_ms);
      this.open(now);
      return;
    }
    if (this.state === 'open') return;
    this.consecutiveFailures += 1;
    this.window.add(now, CALLS);
    this.window.add(now, FAILURES);
    const [calls = 0, failures = 0] = this.window.totals(now);
    const rateTripped = calls >= this.settings.min_calls && failures / calls >= this.settings.failure_rate;
    if (this.consecutiveFailures >= this.settings.consecutive_failures || rateTripped) this.open(now);
  }

  /** A call that ended without telling anything about health (the client left): frees the probe slot. */
  release(probe: boolean): void {
    if (probe) this.probeInFlight = false;
  }

  /** Milliseconds until an open breaker lets a probe through (0 when it already would). */
  msUntilProbe(): number {
    return this.current() === 'open' ? Math.max(0, this.openUntil - this.now()) : 0;
  }

  private open(now: number): void {
    this.openUntil = now + this.openMs;
    this.consecutiveFailures = 0;
    this.transition('open');
  }

  private transition(state: BreakerState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange(state);
  }
}
