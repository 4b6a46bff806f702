// Failover: one request, tried on deployments in the order the model's strategy gives, then on its
// fallback models, until one answers or there is no reason to go on. The rules, in order:
// - never call a deployment inside its Retry-After or cooldown window, nor past its upstream
//   budget (requests and tokens per minute, calls at once); when every deployment is held back
//   only by budget or a Retry-After, the request waits its turn for one (choice.ts), on a retry
//   too: an upstream's 429 reaches the caller only when its Retry-After ends past the deadline;
// - skip deployments whose breaker is open, unless more than half of a model's deployments are
//   ejected (panic: then all serve, since a breaker that ejects everything helps nobody);
// - prefer deployments this request has not tried; a retry of a tried one waits a jittered backoff;
// - stop on an error another deployment would not fix (a bad request), on max_attempts (up to
//   RATE_LIMITED_RETRIES upstream 429s waited out do not count), when the retry budget is spent,
//   or at the request's deadline.
// The attempt itself is the caller's (a completion, or a stream up to its first token), so the
// same loop serves chat, streams and embeddings.
import type { RoutingConfig } from '../config/config.js';
import { GatewayError, isAbort } from '../core/errors.js';
import type { CancelSignal } from '../core/cancel.js';
import type { WaitingRoom } from '../budget/waiting-room.js';
import type { RoutedModel } from './catalog.js';
import { Chooser, type Demand, type WaitState } from './choice.js';
import { isFailoverError, type AttemptLease, type DeploymentState } from './deployment-state.js';
import { RetryBudget } from './retry-budget.js';
import { allAttemptsFailed, noDeploymentAvailable, type FailedAttempt } from './route-errors.js';

export type { Demand } from './choice.js';

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
  /** Where the request waits when every deployment's budget is spent; absent: it fails at once. */
  waitingRoom?: WaitingRoom;
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

/**
 * Upstream 429s a request may wait out on top of max_attempts: waiting for a Retry-After is what
 * the upstream asked for, not a failure to give up on, but an upstream that keeps refusing must
 * not hold a request in a loop (the queue deadline and the retry budget bound it too).
 */
const RATE_LIMITED_RETRIES = 5;

export class Router {
  private readonly budget: RetryBudget;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal: CancelSignal) => Promise<void>;
  private readonly onFirstByte: (deployment: string, ms: number) => void;
  private readonly chooser: Chooser;

  constructor(
    private readonly settings: RoutingConfig,
    options: RouterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? abortableSleep;
    this.onFirstByte = options.onFirstByte ?? (() => {});
    this.budget = new RetryBudget(settings.retry_budget, this.now);
    this.chooser = new Chooser(this.now, this.random);
  }

  /** `demand`: what the request asks of upstream budgets (default: no tokens, one anonymous client). */
  async route<T>(plan: RoutePlan, signal: CancelSignal, attempt: AttemptFn<T>, demand: Demand = { tokens: 0 }): Promise<Routed<T>> {
    this.budget.recordRequest();
    const failures: FailedAttempt[] = [];
    const tried = new Set<DeploymentState>();
    const waiting: WaitState = {};
    let models = plan.models;
    let fallback: FallbackReason | undefined;
    let stoppedBecause: string | undefined;
    /** Failures that used up one of max_attempts, and 429s waited out that did not. */
    let spent = 0;
    let waitedOut = 0;

    while (spent < this.settings.max_attempts) {
      if (signal.aborted) throw signal.reason;
      if (failures.length > 0) {
        if (!this.chooser.anyCallable(models, plan.waitingRoom !== undefined)) break;
        if (!this.budget.tryAcquire()) {
          stoppedBecause = 'the retry budget is spent';
          break;
        }
        // The choice after the backoff is made afresh: others may have put a deployment in a
        // cooldown or opened its breaker while we slept.
        if (!this.chooser.anyUntried(models, tried)) {
          await this.sleep(this.backoffMs(failures.length), signal);
          if (signal.aborted) throw signal.reason;
        }
      }
      let next;
      try {
        next = await this.chooser.choose(models, tried, demand, failures.length > 0, plan.waitingRoom, signal, waiting);
      } catch (error) {
        throw signal.aborted ? signal.reason : counted(error, failures.length);
      }
      if (!next) break;
      if (signal.aborted) {
        next.grant.release();
        throw signal.reason;
      }
      tried.add(next.candidate.state);
      const lease = next.candidate.state.begin(next.grant);
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
        if (isRateLimited(error) && waitedOut < RATE_LIMITED_RETRIES) waitedOut += 1;
        else spent += 1;
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

function isRateLimited(error: unknown): boolean {
  return error instanceof GatewayError && error.status === 429;
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
