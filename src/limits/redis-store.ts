// The rate limiter shared by every node: one DECIDE script per request (redis-scripts.ts), so the
// check and the charge of all limits are one atomic step on the server's clock. Errors (Redis
// down, a timeout) reach the caller, who falls back (fallback.ts); releases and reconciliations
// never reject: a lost release is retried once Redis answers again, and a lost reconciliation
// leaves the estimate charged, which errs on the strict side.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { closeRedis } from '../core/close-redis.js';
import { tokenCost } from './gcra.js';
import { limitScripts, type LimitScripts } from './redis-scripts.js';
import {
  DEFAULT_CONCURRENCY_RETRY_MS, LIMIT_NAMES, type Admission, type Budgets, type Decision, type LimitRequest, type RateLimiter,
} from './types.js';

export interface RedisLimiterOptions {
  /** A connection from connectLimitsRedis (its command timeout bounds every decision). */
  redis: Redis;
  /** Every key starts with it; nodes sharing it share limits. */
  prefix?: string;
  /**
   * How long a concurrency slot outlives a node that died without releasing it. Longer than the
   * longest request (routing.total_timeout_ms), or a live request loses its slot.
   */
  leaseMs?: number;
  concurrencyRetryMs?: number;
  /** Releases kept for retry while Redis is unreachable, at most (leases expire anyway). */
  maxPendingReleases?: number;
}

export const DEFAULT_LIMITS_PREFIX = 'floodgate:limits';
export const DEFAULT_LEASE_MS = 11 * 60_000;

const done = Promise.resolve();

export class RedisLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly scripts: LimitScripts;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly concurrencyRetryMs: number;
  private readonly maxPendingReleases: number;
  /** Lease ids: unique per process without a random call per request. */
  private readonly idBase = randomBytes(6).toString('base64url');
  private sequence = 0;
  private pendingReleases: Array<[key: string, id: string]> = [];

  constructor(options: RedisLimiterOptions) {
    this.redis = options.redis;
    this.scripts = limitScripts(options.redis);
    this.prefix = options.prefix ?? DEFAULT_LIMITS_PREFIX;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.concurrencyRetryMs = options.concurrencyRetryMs ?? DEFAULT_CONCURRENCY_RETRY_MS;
    this.maxPendingReleases = options.maxPendingReleases ?? 10_000;
  }

  /** The identity's state key; its lease set is this plus `:c`. */
  stateKey(identity: string): string {
    return `${this.prefix}:{${identity}}`;
  }

  async decide({ identity, limits, estimatedTokens }: LimitRequest): Promise<Decision> {
    const cost = tokenCost(estimatedTokens);
    const state = this.stateKey(identity);
    const leases = `${state}:c`;
    const id = `${this.idBase}${(this.sequence++).toString(36)}`;
    const reply = await this.scripts.decide([state, leases], [
      limits.rpm ?? 0, limits.tpm ?? 0, limits.concurrency ?? 0, limits.daily_requests ?? 0, limits.daily_tokens ?? 0,
      cost, id, this.leaseMs, this.concurrencyRetryMs,
    ]);
    const [code, wait, day, requestsLeft, requestsReset, tokensLeft, tokensReset] = reply as [number, number, number, number, number, number, number];
    const budgets: Budgets = {};
    if (limits.rpm) budgets.requests = { limit: limits.rpm, remaining: requestsLeft, resetMs: requestsReset };
    if (limits.tpm) budgets.tokens = { limit: limits.tpm, remaining: tokensLeft, resetMs: tokensReset };
    if (code !== 0) {
      return { allowed: false, limit: LIMIT_NAMES[code - 1]!, retryAfterMs: wait === -1 ? null : wait, budgets, backend: 'redis' };
    }
    const tokensCounted = Boolean(limits.tpm || limits.daily_tokens);
    const admission = this.admission(
      state, limits.concurrency ? { key: leases, id } : undefined,
      tokensCounted ? { tpm: limits.tpm ?? 0, cost, day: limits.daily_tokens ? day : undefined } : undefined,
      limits.daily_requests ? day : undefined,
    );
    return { allowed: true, admission, budgets, backend: 'redis' };
  }

  /** Succeeds when Redis answers; then retries the releases that failed meanwhile. */
  async probe(): Promise<void> {
    await this.redis.ping();
    const pending = this.pendingReleases.splice(0);
    await Promise.all(pending.map(([key, id]) => this.release(key, id)));
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }

  /**
   * `tokens` is what reconcile needs, absent when no token limit is enforced (nothing to adjust);
   * `requestsDay` the UTC day whose request count was charged, absent when no daily quota is.
   */
  private admission(
    state: string, lease: { key: string; id: string } | undefined,
    tokens: { tpm: number; cost: number; day: number | undefined } | undefined, requestsDay: number | undefined,
  ): Admission {
    let released = lease === undefined;
    let reconciled = false;
    return {
      release: () => {
        if (released) return done;
        released = true;
        return this.release(lease!.key, lease!.id);
      },
      reconcile: async (actualTokens, settlement) => {
        if (reconciled || !(actualTokens >= 0)) return;
        reconciled = true;
        const difference = tokens ? tokenCost(actualTokens) - tokens.cost : 0;
        const giveBackRequest = settlement?.unserved === true && requestsDay !== undefined;
        if (difference === 0 && !giveBackRequest) return;
        await this.scripts.reconcile([state], [
          tokens?.tpm ?? 0, difference, tokens?.day ?? '', giveBackRequest ? requestsDay : '',
        ]).catch(() => {});
      },
    };
  }

  private async release(key: string, id: string): Promise<void> {
    try {
      await this.redis.zrem(key, id);
    } catch {
      if (this.pendingReleases.length < this.maxPendingReleases) this.pendingReleases.push([key, id]);
    }
  }
}
