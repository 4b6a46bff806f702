// What the router knows about one deployment, shared by every model that uses it: calls in
// flight, recent latency, a Retry-After or cooldown window, its circuit breaker, and its upstream
// budget (requests and tokens per minute, calls at once).
import type { RoutingConfig } from '../config/config.js';
import { GatewayError } from '../core/errors.js';
import type { UpstreamModel } from '../providers/types.js';
import { DeploymentBudget, type BudgetGrant } from '../budget/deployment-budget.js';
import { MemoryBudgetBackend } from '../budget/memory-backend.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';

/** Weight of the newest sample in the latency average: about the last ten calls matter. */
const EWMA_ALPHA = 0.2;

/** Codes that say this deployment is broken for everyone, though the upstream called them permanent. */
const DEPLOYMENT_FAULTS = new Set(['upstream_auth_failed', 'upstream_model_missing', 'upstream_billing']);

export class DeploymentState {
  inFlight = 0;
  /** Exponentially weighted time to first token (or to the whole answer, when not streaming). */
  latencyMs: number | undefined;
  lastSampleAt = 0;
  /** No call goes out before this time (epoch ms): an upstream's Retry-After, or our cooldown. */
  coolingUntil = 0;
  coolingBecause: 429 | 503 = 429;
  readonly breaker: CircuitBreaker;
  readonly budget: DeploymentBudget;

  constructor(
    readonly upstream: UpstreamModel,
    private readonly settings: RoutingConfig,
    private readonly now: () => number,
    onBreakerChange: (deployment: string, state: BreakerState) => void,
    /** Absent: no configured limits, in this process only. */
    budget?: DeploymentBudget,
  ) {
    this.breaker = new CircuitBreaker(settings.breaker, now, (state) => onBreakerChange(this.name, state));
    this.budget = budget ?? new DeploymentBudget(upstream.deployment, {}, new MemoryBudgetBackend(now));
  }

  get name(): string {
    return this.upstream.deployment;
  }

  coolingFor(now: number): number {
    return Math.max(0, this.coolingUntil - now);
  }

  /** Starts an attempt: counted in flight (and holding its budget grant) until the lease ends. */
  begin(grant?: BudgetGrant): AttemptLease {
    this.inFlight += 1;
    return new AttemptLease(this, this.breaker.begin(), this.now, grant);
  }

  /** Folds a failure into health: breaker for faults, cooldown for rate limits and Retry-After. */
  recordFailure(error: unknown, probe: boolean, calledAt?: number): void {
    if (!(error instanceof GatewayError)) {
      this.breaker.release(probe);
      return;
    }
    if (error.retryAfterMs !== undefined || error.status === 429) {
      const waitMs = error.retryAfterMs ?? this.settings.cooldown_ms;
      this.coolingUntil = Math.max(this.coolingUntil, this.now() + waitMs);
      this.coolingBecause = error.status === 429 ? 429 : 503;
      // A rate limit is spent budget: held in the budget too, so other nodes sharing it wait as well.
      if (error.status === 429) this.budget.hold(waitMs, calledAt);
    }
    if (isHealthFault(error)) this.breaker.failure(probe);
    else this.breaker.release(probe);
  }

  recordLatency(ms: number): void {
    this.latencyMs = this.latencyMs === undefined ? ms : this.latencyMs + EWMA_ALPHA * (ms - this.latencyMs);
    this.lastSampleAt = this.now();
  }
}

/** Server-side failures count against health; a rate limit or a rejected request does not. */
function isHealthFault(error: GatewayError): boolean {
  return error.status >= 500 || DEPLOYMENT_FAULTS.has(error.code);
}

/** Whether another deployment might succeed where this one failed. */
export function isFailoverError(error: unknown): error is GatewayError {
  return error instanceof GatewayError && (error.retryable || DEPLOYMENT_FAULTS.has(error.code));
}

/** One attempt's hold on a deployment; exactly one of succeed, fail or release ends it. */
export class AttemptLease {
  private ended = false;
  private readonly startedAt: number;

  constructor(
    readonly deployment: DeploymentState,
    private readonly probe: boolean,
    private readonly now: () => number,
    private readonly grant?: BudgetGrant,
  ) {
    this.startedAt = now();
  }

  /** The tokens the upstream says the call used, settled against the budget when the lease ends. */
  recordUsage(usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined): void {
    if (!usage) return;
    this.grant?.recordUsage(usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0));
  }

  /** The first token (or the whole answer) arrived: feeds the latency average; returns the wait. */
  firstByte(): number {
    const ms = this.now() - this.startedAt;
    this.deployment.recordLatency(ms);
    return ms;
  }

  succeed(): void {
    if (this.end()) this.deployment.breaker.success(this.probe);
  }

  fail(error: unknown): void {
    if (this.end()) this.deployment.recordFailure(error, this.probe, this.startedAt);
  }

  /** Ended with no verdict on the upstream's health (the client left, a deadline passed). */
  release(): void {
    if (this.end()) this.deployment.breaker.release(this.probe);
  }

  private end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.deployment.inFlight -= 1;
    this.grant?.release();
    return true;
  }
}
