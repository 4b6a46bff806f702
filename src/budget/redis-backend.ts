// Budgets shared by every node through Redis, so N gateways together respect one upstream's
// limits: one TAKE script per call (redis-scripts.ts). While Redis is unreachable each node spends
// from a local budget of 1/nodes of every rate, so the upstream still sees about the configured
// total and no request waits on a dead Redis. Settlements, reports and holds never reject: a lost
// settlement leaves the estimate charged (the strict side), a lost slot ends with its lease.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BudgetBackend, Settlement, TakeOutcome, TakeParams, UpstreamReport } from './backend.js';
import { CONCURRENCY_RETRY_MS } from './backend.js';
import type { Rate } from './gcra.js';
import { MemoryBudgetBackend } from './memory-backend.js';
import { budgetScripts, type BudgetScripts } from './redis-scripts.js';

export interface RedisBudgetOptions {
  /** A fail-fast connection (the limiter's, from connectLimitsRedis, is made for this). */
  redis: Redis;
  /** Every key starts with it; nodes sharing it share budgets. */
  prefix?: string;
  /** How long a call's concurrency slot outlives a node that died mid-call: the longest request. */
  leaseMs?: number;
  /** Nodes sharing the budgets (limits.nodes): each spends 1/nodes locally while Redis is down. */
  nodes?: number;
  /** A decision waits at most this long for Redis before it is made locally. */
  timeoutMs?: number;
  /** Told of each Redis failure (the caller logs, throttled). */
  onError?: (error: unknown) => void;
  /** The local fallback's clock. */
  now?: () => number;
}

export const DEFAULT_BUDGET_PREFIX = 'floodgate:budget';
const REDIS_RECEIPT = 'redis';

export class RedisBudgetBackend implements BudgetBackend {
  private readonly scripts: BudgetScripts;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly nodes: number;
  private readonly timeoutMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly local: MemoryBudgetBackend;
  private readonly idBase = randomBytes(6).toString('base64url');
  private sequence = 0;

  constructor(options: RedisBudgetOptions) {
    this.scripts = budgetScripts(options.redis);
    this.prefix = options.prefix ?? DEFAULT_BUDGET_PREFIX;
    this.leaseMs = options.leaseMs ?? 11 * 60_000;
    this.nodes = Math.max(1, options.nodes ?? 1);
    this.timeoutMs = options.timeoutMs ?? 250;
    this.onError = options.onError ?? (() => {});
    this.local = new MemoryBudgetBackend(options.now);
  }

  /** The deployment's state key; its lease set is this plus `:c`. */
  stateKey(deployment: string): string {
    return `${this.prefix}:{${deployment}}`;
  }

  async take(deployment: string, params: TakeParams): Promise<TakeOutcome> {
    const key = this.stateKey(deployment);
    const lease = `${this.idBase}.${(this.sequence++).toString(36)}`;
    const args = [
      params.tokens, params.requests?.inc ?? 0, params.requests?.cap ?? 0, params.tokenRate?.inc ?? 0, params.tokenRate?.cap ?? 0,
      params.maxConcurrency ?? 0, lease, this.leaseMs, CONCURRENCY_RETRY_MS,
    ];
    let reply: unknown;
    const asked = this.scripts.take([key, `${key}:c`], args);
    try {
      reply = await this.bounded(asked);
    } catch (error) {
      this.onError(error);
      // A late answer has still taken: give its concurrency lease back (the rates it spent stay
      // spent, the strict side), or the slot stays held for the lease's whole length.
      if (params.maxConcurrency !== undefined) {
        void asked.then((late) => {
          if ((late as [number])[0] === 1) void this.quietly(this.scripts.settle([key, `${key}:c`], [0, 0, lease]));
        }, () => {});
      }
      return this.local.take(deployment, this.share(params));
    }
    const [taken, wait, reason] = reply as [number, number?, string?];
    if (taken === 1) return { ok: true, receipt: params.maxConcurrency === undefined ? REDIS_RECEIPT : `${REDIS_RECEIPT}:${lease}` };
    return { ok: false, readyInMs: Number(wait), reason: reason as 'hold' | 'requests' | 'tokens' | 'concurrency' };
  }

  async settle(deployment: string, settlement: Settlement): Promise<void> {
    if (!settlement.receipt.startsWith(REDIS_RECEIPT)) return this.local.settle(deployment, { ...settlement, tokenRate: this.shareRate(settlement.tokenRate) });
    const lease = settlement.receipt.slice(REDIS_RECEIPT.length + 1);
    if (settlement.tokenDelta === 0 && lease === '') return;
    const key = this.stateKey(deployment);
    await this.quietly(this.scripts.settle([key, `${key}:c`], [settlement.tokenDelta, settlement.tokenRate?.inc ?? 0, lease]));
  }

  async observe(deployment: string, report: UpstreamReport): Promise<void> {
    const args = (['requests', 'tokens'] as const).flatMap((d) => {
      const seen = report[d];
      return seen ? [seen.remaining, seen.resetMs, seen.limit ?? ''] : ['', '', ''];
    });
    await Promise.all([this.local.observe(deployment, report), this.quietly(this.scripts.observe([this.stateKey(deployment)], args))]);
  }

  async hold(deployment: string, ms: number): Promise<void> {
    await Promise.all([this.local.hold(deployment, ms), this.quietly(this.scripts.hold([this.stateKey(deployment)], [Math.ceil(ms)]))]);
  }

  /** This node's share of the configured budget, for decisions made while Redis is away. */
  private share(params: TakeParams): TakeParams {
    return {
      tokens: params.tokens,
      ...(params.requests ? { requests: this.shareRate(params.requests) } : {}),
      ...(params.tokenRate ? { tokenRate: this.shareRate(params.tokenRate) } : {}),
      ...(params.maxConcurrency !== undefined ? { maxConcurrency: Math.max(1, Math.floor(params.maxConcurrency / this.nodes)) } : {}),
    };
  }

  private shareRate(rate: Rate | undefined): Rate | undefined {
    if (!rate) return undefined;
    const inc = rate.inc * this.nodes;
    return { inc, cap: Math.max(inc, rate.cap) };
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  private async quietly(work: Promise<unknown>): Promise<void> {
    try {
      await this.bounded(work);
    } catch (error) {
      this.onError(error);
    }
  }
}
