// The choice step of failover: which deployment gets the next attempt. A deployment may be called
// when it is out of any cooldown, its breaker permits (or the model is in panic), and its upstream
// budget has room for this request; the budget is taken in the same step, so the call that follows
// never goes over it. When every deployment of the plan lacks budget, or sits in an upstream's
// Retry-After, the request waits its turn in the waiting room instead of failing or calling an
// upstream that would answer 429. Deployments that are down (a 503 cooldown, an open breaker) are
// never waited for: with nothing else left the request fails at once, as before.
import type { CancelSignal } from '../core/cancel.js';
import type { BudgetGrant } from '../budget/deployment-budget.js';
import type { QueueClient } from '../budget/fair-queue.js';
import type { WaitReason } from '../budget/refusals.js';
import type { Attempt, WaitingRoom } from '../budget/waiting-room.js';
import type { RoutedModel } from './catalog.js';
import type { DeploymentState } from './deployment-state.js';
import { noDeploymentAvailable } from './route-errors.js';
import { STRATEGY_ORDER, type Candidate } from './strategies/index.js';

/** What a request asks of upstream budgets. */
export interface Demand {
  /** Tokens it is expected to use upstream (prompt plus reserved output), charged per attempt. */
  tokens: number;
  /** Whose turn it is in the fair queue; absent: everyone is one anonymous client. */
  client?: QueueClient;
}

export interface Choice {
  model: RoutedModel;
  candidate: Candidate;
  grant: BudgetGrant;
}

/** One request's waiting, across its attempts: the deadline is set once, when it first waits. */
export interface WaitState {
  deadlineAt?: number;
}

const ANONYMOUS: QueueClient = { key: 'anonymous', priority: 0 };

export class Chooser {
  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
  ) {}

  /**
   * Whether some deployment may be called, now or once budget allows, or (`waiting`: the request
   * may wait) once an upstream's Retry-After has passed.
   */
  anyCallable(models: readonly RoutedModel[], waiting: boolean): boolean {
    const now = this.now();
    return models.some((m) => {
      const { callable, rateLimited } = this.candidates(m, now);
      return callable.length > 0 || (waiting && rateLimited.length > 0);
    });
  }

  /** Whether a deployment this request has not tried may be called. */
  anyUntried(models: readonly RoutedModel[], tried: ReadonlySet<DeploymentState>): boolean {
    const now = this.now();
    return models.some((m) => this.candidates(m, now).callable.some((c) => !tried.has(c.state)));
  }

  /**
   * The next deployment, with its budget taken; undefined when none may be called. Every attempt
   * waits for budget and for upstream Retry-After windows, within the request's one deadline: an
   * upstream 429 is not passed on while waiting a little would do. A first attempt that cannot be
   * served before the deadline is refused early; a retry that cannot ends (undefined), and the
   * caller gets the failure it already has, the upstream's 429 with its Retry-After included.
   */
  async choose(
    models: readonly RoutedModel[], tried: ReadonlySet<DeploymentState>, demand: Demand, retry: boolean,
    room: WaitingRoom | undefined, signal: CancelSignal, wait: WaitState,
  ): Promise<Choice | undefined> {
    const look = (): Promise<Attempt<Choice>> => this.look(models, tried, demand);
    let pool = room && room.size > 0 ? poolOf(models) : undefined;
    let first: { readyInMs: number; reason: WaitReason } | undefined;
    // With others already waiting, a newcomer queues behind them even if budget has just come back.
    if (!room || !pool || room.isIdle(pool.key)) {
      const found = await look();
      if (found.kind === 'granted') return found.value;
      if (found.kind === 'none' || !room) return undefined;
      first = { readyInMs: found.readyInMs, reason: found.reason };
    }
    if (signal.aborted) throw signal.reason;
    pool ??= poolOf(models);
    wait.deadlineAt ??= room.deadline();
    try {
      return await room.wait<Choice>({
        pool: pool.key, deployments: pool.deployments, model: models[0]!.config.id, client: demand.client ?? ANONYMOUS,
        cost: demand.tokens, signal, deadlineAt: wait.deadlineAt, refill: pool.refill, ...(first ? { first } : {}),
        attempt: look, discard: (choice) => choice.grant.release(),
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (retry) return undefined;
      throw error;
    }
  }

  /** Tries each callable deployment in the order the failover rules give, taking budget from the first that has it. */
  private async look(models: readonly RoutedModel[], tried: ReadonlySet<DeploymentState>, demand: Demand): Promise<Attempt<Choice>> {
    const now = this.now();
    let soonest: { readyInMs: number; reason: WaitReason } | undefined;
    const later = (readyInMs: number, reason: WaitReason): void => {
      if (!soonest || readyInMs < soonest.readyInMs) soonest = { readyInMs, reason };
    };
    for (const retryPass of [false, true]) {
      for (const model of models) {
        const { callable, rateLimited } = this.candidates(model, now);
        for (const c of rateLimited) later(c.state.coolingFor(now), 'rate_limited');
        const usable = callable.filter((c) => tried.has(c.state) === retryPass);
        if (usable.length === 0) continue;
        for (const candidate of STRATEGY_ORDER[model.config.strategy](usable, { random: this.random, now })) {
          const take = await candidate.state.budget.tryTake(demand.tokens);
          if (!take.ok) {
            later(take.readyInMs, take.reason === 'hold' ? 'rate_limited' : 'budget');
            continue;
          }
          // Another request may have opened its breaker or had it rate-limited while we waited for the budget.
          if (!this.candidates(model, this.now()).callable.includes(candidate)) {
            take.grant.release();
            continue;
          }
          return { kind: 'granted', value: { model, candidate, grant: take.grant } };
        }
      }
    }
    if (soonest) return { kind: 'wait', ...soonest };
    return { kind: 'none', error: noDeploymentAvailable(models[0]!.config.id, [...models], now) };
  }

  /**
   * A model's deployments that may be called (out of cooldown, breaker permitting, or all of
   * them in panic: a breaker that ejects more than half helps nobody), and those only waiting
   * out an upstream's Retry-After.
   */
  private candidates(model: RoutedModel, now: number): { callable: Candidate[]; rateLimited: Candidate[] } {
    const allowed = model.candidates.filter((c) => c.state.breaker.allows());
    const panic = model.candidates.length - allowed.length > Math.floor(model.candidates.length / 2);
    const eligible = panic ? model.candidates : allowed;
    return {
      callable: eligible.filter((c) => c.state.coolingFor(now) === 0),
      rateLimited: eligible.filter((c) => c.state.coolingFor(now) > 0 && c.state.coolingBecause === 429),
    };
  }
}

/** Requests whose plans reach the same deployments wait in one queue, and are woken by their calls ending. */
function poolOf(models: readonly RoutedModel[]): { key: string; deployments: string[]; refill: { requests: number; tokens: number } } {
  const states = new Map<string, DeploymentState>();
  for (const model of models) for (const c of model.candidates) states.set(c.state.name, c.state);
  const deployments = [...states.keys()].sort();
  let requests = 0;
  let tokens = 0;
  for (const state of states.values()) {
    requests += state.budget.refill.requests;
    tokens += state.budget.refill.tokens;
  }
  return { key: deployments.join('\n'), deployments, refill: { requests, tokens } };
}
