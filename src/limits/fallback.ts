// Shared limits in Redis, and per-process limits when Redis cannot answer. A decision that fails
// or outlives the deadline is made in memory instead, and so is every decision after it until a
// background probe gets an answer from Redis again: one slow decision per outage, not one per
// request. In memory each node enforces limit / nodes, so N nodes together stay near the shared
// limit; rounded down but never below 1, so a tiny anonymous limit never becomes unlimited.
//
// Fails open to memory on any Redis error (a script error too): the limiter must never be the
// reason a request fails. Memory state is not copied back: after an outage the Redis budgets
// resume where they were, and the memory ones are swept away. A DECIDE that timed out may still
// run once a hung Redis wakes up; it then charges a request that memory decided, which errs on
// the strict side (and its lease, if any, expires).
//
// The deadline is kept here as well as by the connection's command timeout: ioredis retries a
// script missing from the server's cache (NOSCRIPT) as a second command with its own timeout.
import type { Logger } from '../observability/logger.js';
import { describeError } from '../observability/logger.js';
import { tokenCost } from './gcra.js';
import type { MemoryLimiter } from './memory-store.js';
import type { BackendName, Decision, LimitRequest, RateLimiter, TierLimits } from './types.js';

/** A shared limiter that can say whether it is reachable (RedisLimiter). */
export interface RemoteLimiter extends RateLimiter {
  probe(): Promise<void>;
}

export interface FallbackLimiterOptions {
  primary: RemoteLimiter;
  fallback: MemoryLimiter;
  /** Nodes sharing the limits (limits.nodes). */
  nodes: number;
  /** A Redis decision taking longer is made in memory (limits.redis_timeout_ms). */
  timeoutMs: number;
  /** Pause between probes while in memory mode. */
  probeMs?: number;
  /** Where to start: memory when Redis was not ready at start-up (a probe runs at once). */
  initialMode?: BackendName;
  logger?: Logger;
  /** Called on each switch, for metrics. */
  onModeChange?: (mode: BackendName) => void;
}

class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  readonly code = 'ETIMEDOUT';
}

export class FallbackLimiter implements RateLimiter {
  private current: BackendName;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly probeMs: number;

  constructor(private readonly options: FallbackLimiterOptions) {
    this.probeMs = options.probeMs ?? 500;
    this.current = options.initialMode ?? 'redis';
    if (this.current === 'memory') this.scheduleProbe(0);
  }

  /** Which store decides now. */
  get mode(): BackendName {
    return this.current;
  }

  async decide(request: LimitRequest): Promise<Decision> {
    tokenCost(request.estimatedTokens); // a caller's bug throws here, not as a Redis failure
    if (this.current === 'redis') {
      const asked = this.options.primary.decide(request);
      try {
        return await this.withDeadline(asked);
      } catch (error) {
        // Redis may still answer after the deadline, and then it has charged the request: undo
        // that admission, or its concurrency lease would be held for the lease's whole length.
        void asked.then((late) => {
          if (!late.allowed) return;
          void late.admission.release();
          void late.admission.reconcile(0, { unserved: true });
        }, () => {});
        this.switchTo('memory', error);
      }
    }
    const decision = await this.options.fallback.decide({ ...request, limits: dividedLimits(request.limits, this.options.nodes) });
    // "Never fits" is judged against the whole limit: a request too big only for this node's
    // share will fit once Redis is back, so it gets a wait, not a 400 no client retries.
    if (!decision.allowed && decision.retryAfterMs === null && fitsWhole(request)) return { ...decision, retryAfterMs: this.probeMs };
    return decision;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probeTimer);
    await Promise.all([this.options.primary.close(), this.options.fallback.close()]);
  }

  private withDeadline<T>(work: Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new DeadlineExceeded(`no answer from redis within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private switchTo(mode: BackendName, error?: unknown): void {
    if (this.current === mode) return;
    this.current = mode;
    if (mode === 'memory') {
      this.options.logger?.warn({ err: describeError(error) }, 'rate limits: redis unreachable; enforcing per-node limits in memory');
      this.scheduleProbe(this.probeMs);
    } else {
      this.options.logger?.info('rate limits: redis reachable again; shared limits restored');
    }
    this.options.onModeChange?.(mode);
  }

  private scheduleProbe(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => void this.probe(), delayMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    try {
      await this.withDeadline(this.options.primary.probe());
      if (!this.closed) this.switchTo('redis');
    } catch {
      this.scheduleProbe(this.probeMs);
    }
  }
}

/** Whether the request's tokens fit the undivided token limits. */
function fitsWhole(request: LimitRequest): boolean {
  const { tpm, daily_tokens: daily } = request.limits;
  return (!tpm || request.estimatedTokens <= tpm) && (!daily || request.estimatedTokens <= daily);
}

/** Each enforced limit divided among `nodes`, rounded down, at least 1. */
export function dividedLimits(limits: TierLimits, nodes: number): TierLimits {
  if (nodes <= 1) return limits;
  const share = (limit: number | undefined) => (limit ? Math.max(1, Math.floor(limit / nodes)) : undefined);
  return {
    rpm: share(limits.rpm),
    tpm: share(limits.tpm),
    concurrency: share(limits.concurrency),
    daily_requests: share(limits.daily_requests),
    daily_tokens: share(limits.daily_tokens),
  };
}
