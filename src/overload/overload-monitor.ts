// Decides whether this process takes new requests. Resources are read on a timer; the per-request
// decision only reads the outcome of the last reading, so it costs a few comparisons.
import type { OverloadConfig } from './overload-schema.js';
import { processSampler, type ResourceSample, type Sampler } from './process-sampler.js';

export type OverloadReason = 'event_loop_delay' | 'heap' | 'rss' | 'in_flight';

export type OverloadDecision =
  | { readonly overloaded: false }
  | { readonly overloaded: true; readonly reason: OverloadReason; readonly retryAfterSeconds: number };

/**
 * A sampled limit, once passed, holds until its metric falls below this share of it: a process
 * hovering at its limit would otherwise take and refuse requests on alternate readings, and the
 * requests it takes are the ones that push it back over.
 */
export const RECOVERY_RATIO = 0.8;

const MIB = 1024 * 1024;
const ACCEPT: OverloadDecision = Object.freeze({ overloaded: false });

/** Over past `limit`, back under below `limit * RECOVERY_RATIO`; no limit: never over. */
class Threshold {
  over = false;
  constructor(private readonly limit: number | undefined) {}

  update(value: number): boolean {
    if (this.limit === undefined) return false;
    if (this.over) this.over = value >= this.limit * RECOVERY_RATIO;
    else this.over = value > this.limit;
    return this.over;
  }
}

export interface OverloadMonitorOptions {
  /** Where readings come from; default: this process (processSampler). */
  sampler?: Sampler;
  /** False: no timer, readings are taken only by calling sample() (tests). Default true. */
  timer?: boolean;
}

export class OverloadMonitor {
  readonly enabled: boolean;
  private readonly sampler: Sampler | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly maxInFlight: number;
  private readonly eventLoop: Threshold;
  private readonly heapRatio: Threshold;
  private readonly heapBytes: Threshold;
  private readonly rss: Threshold;
  /** One frozen decision per reason, built once: a refusal allocates nothing. */
  private readonly refusals: Readonly<Record<OverloadReason, OverloadDecision>>;
  /** The outcome of the last reading: ACCEPT or a sampled reason's refusal. */
  private sampled: OverloadDecision = ACCEPT;
  private latest: ResourceSample | undefined;

  constructor(config: OverloadConfig, options: OverloadMonitorOptions = {}) {
    this.enabled = config.enabled;
    this.maxInFlight = config.max_in_flight;
    this.eventLoop = new Threshold(config.max_event_loop_delay_ms);
    this.heapRatio = new Threshold(config.max_heap_used_ratio);
    this.heapBytes = new Threshold(config.max_heap_mb === undefined ? undefined : config.max_heap_mb * MIB);
    this.rss = new Threshold(config.max_rss_mb === undefined ? undefined : config.max_rss_mb * MIB);
    const refusal = (reason: OverloadReason): OverloadDecision => Object.freeze({ overloaded: true, reason, retryAfterSeconds: config.retry_after_s });
    this.refusals = { event_loop_delay: refusal('event_loop_delay'), heap: refusal('heap'), rss: refusal('rss'), in_flight: refusal('in_flight') };
    if (!this.enabled) return;
    this.sampler = options.sampler ?? processSampler({ intervalMs: config.sample_interval_ms });
    if (options.timer !== false) {
      // unref: a monitor alone never keeps the process alive.
      this.timer = setInterval(() => this.sample(), config.sample_interval_ms).unref();
    }
  }

  /** Takes one reading and updates the decision; the timer calls this. */
  sample(): void {
    if (!this.sampler) return;
    const s = this.sampler.read();
    this.latest = s;
    // Every threshold is updated on every reading (no short-circuit), so each one's hysteresis
    // follows its own metric even while another reason is the one reported.
    const eventLoop = this.eventLoop.update(s.eventLoopDelayMs);
    const heapRatio = s.heapLimitBytes > 0 && this.heapRatio.update(s.heapUsedBytes / s.heapLimitBytes);
    const heapBytes = this.heapBytes.update(s.heapUsedBytes);
    const rss = this.rss.update(s.rssBytes);
    this.sampled = eventLoop ? this.refusals.event_loop_delay
      : heapRatio || heapBytes ? this.refusals.heap
      : rss ? this.refusals.rss
      : ACCEPT;
  }

  /** Whether a new request should be refused, given the requests already being answered. O(1). */
  check(inFlight: number): OverloadDecision {
    if (this.sampled !== ACCEPT) return this.sampled;
    // A hard limit, read exactly on each request, so it needs no hysteresis.
    if (this.enabled && inFlight >= this.maxInFlight) return this.refusals.in_flight;
    return ACCEPT;
  }

  /** The last reading, for gauges and logs; undefined before the first. */
  get lastSample(): ResourceSample | undefined {
    return this.latest;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sampler?.stop();
  }
}
