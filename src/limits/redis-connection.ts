// The limiter's Redis connection, tuned to fail fast rather than to wait: a rate-limit decision
// that cannot reach Redis within redis_timeout_ms is made in memory instead (fallback.ts).
// Unlike the history's connection (history/redis-connection.ts) nothing is queued or resent: a
// DECIDE resent after a reconnect would charge a request twice.
import { Redis } from 'ioredis';
import { logOutages, type Logger } from '../observability/logger.js';

export interface LimitsRedisOptions {
  /** Any one command, from send to reply: limits.redis_timeout_ms. */
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
  /** Longest pause between reconnect attempts, so a returning Redis is seen within seconds. */
  maxReconnectDelayMs?: number;
}

export function connectLimitsRedis(url: string, options: LimitsRedisOptions, logger: Logger): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 1_000;
  const redis = new Redis(url, {
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs ?? 1_000,
    // Not connected: a command fails at once, so the decision falls back now, not after a timeout.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, maxDelay),
  });
  logOutages(redis, logger, 'rate-limit redis');
  return redis;
}

/** Resolves true once `redis` is ready, false if it is not within `timeoutMs`. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    const onReady = () => finish(true);
    function finish(ready: boolean): void {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    }
    redis.on('ready', onReady);
  });
}
