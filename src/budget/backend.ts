// The contract between a deployment's budget (deployment-budget.ts) and where its state lives: in
// this process (memory-backend.ts) or in Redis, shared by every node (redis-backend.ts). Both
// implement the same semantics, pinned by one conformance suite (backend-conformance.test.ts):
// - `take` checks, in one atomic step, a Retry-After hold, the configured requests and tokens
//   rates, what the upstream last reported about its own budget, and the concurrency cap; it
//   charges all of them only if all pass, and otherwise says how long until it would pass.
// - `settle` corrects the tokens charged once the real usage is known, and frees the call's slot.
// - `observe` replaces what is known of the upstream's own budget (it can only hold calls back:
//   the configured rates apply whatever the upstream says).
// - `hold` keeps every call out until an upstream's Retry-After has passed.
import type { Rate } from './gcra.js';

/** One dimension of an upstream's rate-limit report, as its response headers give it. */
export interface DimensionReport {
  remaining: number;
  /** ms until the budget is full again. */
  resetMs: number;
  /** The whole budget; without it no refill rate can be inferred. */
  limit?: number;
}

export interface UpstreamReport {
  requests?: DimensionReport;
  tokens?: DimensionReport;
}

export interface TakeParams {
  /** Tokens this call is expected to use (prompt plus reserved output). */
  tokens: number;
  /** The configured rates; absent: not limited by configuration in that dimension. */
  requests?: Rate;
  tokenRate?: Rate;
  maxConcurrency?: number;
}

/** Why a take was refused: an upstream's Retry-After, or which budget is spent. */
export type RefusalReason = 'hold' | 'requests' | 'tokens' | 'concurrency';

export type TakeOutcome =
  /** `receipt` goes back with the settlement: which store charged the call, and its slot. */
  | { ok: true; receipt: string }
  | { ok: false; readyInMs: number; reason: RefusalReason };

export interface Settlement {
  /** Real usage minus the tokens charged: negative refunds, positive charges the difference. */
  tokenDelta: number;
  tokenRate?: Rate;
  /** The take's receipt. */
  receipt: string;
}

export interface BudgetBackend {
  take(deployment: string, params: TakeParams): Promise<TakeOutcome>;
  settle(deployment: string, settlement: Settlement): Promise<void>;
  observe(deployment: string, report: UpstreamReport): Promise<void>;
  hold(deployment: string, ms: number): Promise<void>;
}

/**
 * A full concurrency cap frees when a call ends, which a backend cannot time: callers look again
 * this often (in this process a release also wakes them at once).
 */
export const CONCURRENCY_RETRY_MS = 100;
