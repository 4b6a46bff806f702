// Failover: one request, tried on deployments in the order the model's strategy gives, then on its
// fallback models, until one answers or there is no reason to go on. The rules, in order:
// - never call a deployment inside its Retry-After or cooldown window;
// - skip deployments whose breaker is open, unless more than half of a model's deployments are
//   ejected (panic: then all serve, since a breaker that ejects everything helps nobody);
// - prefer deployments this request has not tried; a retry of a tried one waits a jittered backoff;
// - stop on an error another deployment would not fix (a bad request), on max_attempts, when the
//   retry budget is spent, or at the request's deadline.
// The attempt itself is the caller's (a completion, or a stream up to its first token), so the
// same loop serves chat, streams and embeddings.
import type { RoutingConfig } from '../config/config.js';
import { GatewayError, isAbort } from '../core/errors.js';
import type { CancelSignal } from '../core/cancel.js';
import type { RoutedModel } from './catalog.js';
import { isFailoverError, type AttemptLease, type DeploymentState } from './deployment-state.js';
import { RetryBudget } from './retry-budget.js';
import { STRATEGY_ORDER, type Candidate } from './strategies/index.js';
import { allAttemptsFailed, noDeploymentAvailable, type FailedAttempt } from './route-errors.js';

export interface RoutePlan {
  /** Tried in order: the model that will serve (possibly rerouted), then its usable fallbacks. */
  models: RoutedModel[];
  /** Tried instead when an upstream refuses on content-policy grounds; empty: such a refusal is final. */
  contentPolicyFallbacks: RoutedModel[];
  /**
   * Bigger models to try when an upstream says the prompt is too long though our count said it
   * fits (its tokenizer counts differently); looked up only then. Absent: such a 400 is final.
   */
  biggerModels?: () => Promise<RoutedModel[]>;
}

/** Why the model that answered is not the first one planned. */
export type FallbackReason = 'fallback' | 'content_policy' | 'context';

export interface Routed<T> {
  value: T;
  model: RoutedModel;
  /** Still open: the caller ends it when the answer is complete (a stream's end, for streams). */
  lease: AttemptLease;
  attempts: number;
  fallback?: FallbackReason;
}

export type AttemptFn<T> = (model: RoutedModel, lease: AttemptLease) => Promise<T>;

export interface RouterOptions {
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal: CancelSignal) => Promise<void>;
  /** Told how long each successful attempt waited for its first token (or whole answer). */
  onFirstByte?: (deployment: string, ms: number) => void;
}

const CONTENT_POLICY_CODES = new Set(['content_policy_violation', 'content_filter']);

export class Router {
  private readonly budget: RetryBudget;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal: CancelSignal) => Promise<void>;
  private readonly onFirstByte: (deployment: string, ms: number) => void;

  constructor(
    private readonly settings: RoutingConfig,
    options: RouterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? abortableSleep;
    this.onFirstByte = options.onFirstByte ?? (() => {});
    this.budget = new RetryBudget(settings.retry_budget, this.now);
  }

  async route<T>(plan: RoutePlan, signal: CancelSignal, attempt: AttemptFn<T>): Promise<Routed<T>> {
    this.budget.recordRequest();
    const failures: FailedAttempt[] = [];
    const tried = new Set<DeploymentState>();
    let models = plan.models;
    let fallback: FallbackReason | undefined;
    let stoppedBecause: string | undefined;

    while (failures.length < this.settings.max_attempts) {
      if (signal.aborted) throw signal.reason;
      let next = this.choose(models, tried);
      if (!next) break;
      if (failures.length > 0) {
        if (!this.budget.tryAcquire()) {
          stoppedBecause = 'the retry budget is spent';
          break;
        }
        if (tried.has(next.candidate.state)) {
          await this.sleep(this.backoffMs(failures.length), signal);
          if (signal.aborted) throw signal.reason;
          // While we slept, other requests may have put it in a cooldown or opened its breaker.
          next = this.choose(models, tried);
          if (!next) break;
        }
      }
      tried.add(next.candidate.state);
      const lease = next.candidate.state.begin();
      try {
        const value = await attempt(next.model, lease);
        this.onFirstByte(next.candidate.state.name, lease.firstByte());
        const servedByFallback = next.model !== plan.models[0] ? (fallback ?? 'fallback') : undefined;
        return { value, model: next.model, lease, attempts: failures.length + 1, ...(servedByFallback ? { fallback: servedByFallback } : {}) };
      } catch (error) {
        if (signal.aborted || isAbort(error)) {
          lease.release();
          throw signal.aborted ? signal.reason : error;
        }
        lease.fail(error);
        failures.push({ deployment: next.candidate.state.name, error });
        if (isContentPolicyRefusal(error) && fallback !== 'content_policy' && plan.contentPolicyFallbacks.length > 0) {
          models = plan.contentPolicyFallbacks;
          fallback = 'content_policy';
          continue;
        }
        if (isContextExceeded(error) && fallback !== 'context' && plan.biggerModels) {
          const bigger = await plan.biggerModels();
          if (bigger.length > 0) {
            models = bigger;
            fallback = 'context';
            continue;
          }
        }
        if (!isFailoverError(error)) throw counted(error, failures.length);
      }
    }
    if (failures.length === 0) throw counted(noDeploymentAvailable(plan.models[0]!.config.id, models, this.now()), 0);
    // One failure is passed on as it came, unless a retry was refused for a reason worth telling.
    const only = failures.length === 1 ? failures[0]!.error : undefined;
    if (only !== undefined && (!stoppedBecause || !isFailoverError(only))) throw counted(only, 1);
    throw counted(allAttemptsFailed(plan.models[0]!.config.id, failures, stoppedBecause), failures.length);
  }

  /** The next deployment to call, untried ones first, or undefined when none may be called now. */
  private choose(models: RoutedModel[], tried: Set<DeploymentState>): { model: RoutedModel; candidate: Candidate } | undefined {
    const now = this.now();
    for (const retry of [false, true]) {
      for (const model of models) {
        const usable = this.usable(model, now).filter((c) => tried.has(c.state) === retry);
        if (usable.length === 0) continue;
        const ordered = STRATEGY_ORDER[model.config.strategy](usable, { random: this.random, now });
        return { model, candidate: ordered[0]! };
      }
    }
    return undefined;
  }

  /** A model's deployments that may be called now: out of cooldown, breaker permitting (or panic). */
  private usable(model: RoutedModel, now: number): Candidate[] {
    const warm = model.candidates.filter((c) => c.state.coolingFor(now) === 0);
    const admitted = warm.filter((c) => c.state.breaker.allows());
    const ejected = model.candidates.length - model.candidates.filter((c) => c.state.breaker.allows()).length;
    const panic = ejected > Math.floor(model.candidates.length / 2);
    return panic ? warm : admitted;
  }

  /** Full jitter: uniform in [0, min(max, base * 2^(n-1))]. */
  private backoffMs(failures: number): number {
    const ceiling = Math.min(this.settings.backoff_max_ms, this.settings.backoff_base_ms * 2 ** (failures - 1));
    return Math.floor(this.random() * ceiling);
  }
}

/** Notes on an error how many upstream calls were made before it, for the caller's headers. */
function counted(error: unknown, attempts: number): unknown {
  if (error instanceof GatewayError) error.attempts = attempts;
  return error;
}

function isContextExceeded(error: unknown): boolean {
  return error instanceof GatewayError && error.status === 400 && error.code === 'context_length_exceeded';
}

function isContentPolicyRefusal(error: unknown): boolean {
  return error instanceof GatewayError && CONTENT_POLICY_CODES.has(error.code);
}

function abortableSleep(ms: number, signal: CancelSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.off('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.once('abort', done);
  });
}
