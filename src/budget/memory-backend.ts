// Budgets in this process: the embedded default, and the fallback while Redis is unreachable.
// Synchronous underneath; the promises only match the contract the Redis backend needs.
import { CONCURRENCY_RETRY_MS, type BudgetBackend, type RefusalReason, type Settlement, type TakeOutcome, type TakeParams, type UpstreamReport } from './backend.js';
import { charge, learnedRate, readyIn, type Rate } from './gcra.js';

/** Receipts: charged here; charged here and holding a concurrency slot. */
export const LOCAL = 'local';
const SLOT = 'local:slot';

interface Learned {
  rate: Rate;
  tat: number;
}

interface State {
  /** No call before this time (an upstream's Retry-After). */
  hold: number;
  requestsTat: number;
  tokensTat: number;
  learnedRequests?: Learned;
  learnedTokens?: Learned;
  inFlight: number;
}

export class MemoryBudgetBackend implements BudgetBackend {
  private readonly states = new Map<string, State>();

  constructor(private readonly now: () => number = Date.now) {}

  take(deployment: string, params: TakeParams): Promise<TakeOutcome> {
    return Promise.resolve(this.takeNow(deployment, params));
  }

  settle(deployment: string, settlement: Settlement): Promise<void> {
    const state = this.state(deployment);
    if (settlement.tokenRate && settlement.tokenDelta !== 0) {
      state.tokensTat = charge(state.tokensTat, settlement.tokenRate, settlement.tokenDelta, this.now());
    }
    if (settlement.receipt === SLOT) state.inFlight = Math.max(0, state.inFlight - 1);
    return Promise.resolve();
  }

  observe(deployment: string, report: UpstreamReport): Promise<void> {
    const state = this.state(deployment);
    const now = this.now();
    for (const dimension of ['requests', 'tokens'] as const) {
      const seen = report[dimension];
      if (!seen) continue;
      if (seen.limit === undefined) {
        // Without the limit no refill rate can be inferred; "nothing left" still means wait.
        if (seen.remaining <= 0 && seen.resetMs > 0) state.hold = Math.max(state.hold, now + seen.resetMs);
        continue;
      }
      const learned = learnedRate(seen.remaining, seen.resetMs, seen.limit, now);
      if (dimension === 'requests') state.learnedRequests = learned;
      else state.learnedTokens = learned;
    }
    return Promise.resolve();
  }

  hold(deployment: string, ms: number): Promise<void> {
    const state = this.state(deployment);
    state.hold = Math.max(state.hold, this.now() + ms);
    return Promise.resolve();
  }

  private takeNow(deployment: string, params: TakeParams): TakeOutcome {
    const state = this.state(deployment);
    const now = this.now();
    if (state.hold > now) return { ok: false, readyInMs: Math.ceil(state.hold - now), reason: 'hold' };
    let wait = 0;
    let reason: RefusalReason = 'requests';
    const check = (tat: number, rate: Rate | undefined, units: number, why: RefusalReason): void => {
      if (!rate) return;
      const ms = readyIn(tat, rate, units, now);
      if (ms > wait) {
        wait = ms;
        reason = why;
      }
    };
    check(state.requestsTat, params.requests, 1, 'requests');
    check(state.tokensTat, params.tokenRate, params.tokens, 'tokens');
    check(state.learnedRequests?.tat ?? 0, state.learnedRequests?.rate, 1, 'requests');
    check(state.learnedTokens?.tat ?? 0, state.learnedTokens?.rate, params.tokens, 'tokens');
    if (wait > 0) return { ok: false, readyInMs: Math.ceil(wait), reason };
    if (params.maxConcurrency !== undefined && state.inFlight >= params.maxConcurrency) {
      return { ok: false, readyInMs: CONCURRENCY_RETRY_MS, reason: 'concurrency' };
    }
    if (params.requests) state.requestsTat = charge(state.requestsTat, params.requests, 1, now);
    if (params.tokenRate) state.tokensTat = charge(state.tokensTat, params.tokenRate, params.tokens, now);
    if (state.learnedRequests) state.learnedRequests.tat = charge(state.learnedRequests.tat, state.learnedRequests.rate, 1, now);
    if (state.learnedTokens) state.learnedTokens.tat = charge(state.learnedTokens.tat, state.learnedTokens.rate, params.tokens, now);
    if (params.maxConcurrency === undefined) return { ok: true, receipt: LOCAL };
    state.inFlight += 1;
    return { ok: true, receipt: SLOT };
  }

  private state(deployment: string): State {
    let state = this.states.get(deployment);
    if (!state) {
      state = { hold: 0, requestsTat: 0, tokensTat: 0, inFlight: 0 };
      this.states.set(deployment, state);
    }
    return state;
  }
}
