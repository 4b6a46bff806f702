// Redis connections for the history, always with timeouts: a Redis that hangs (not down, just
// silent) must turn a request into a quick 503, never hold it forever. ioredis arms
// commandTimeout for every command, queued ones included, so a command waiting for a reconnect
// fails in time too.
import { Redis } from 'ioredis';
import { logOutages, type Logger } from '../observability/logger.js';
import { errorSummary } from './history-errors.js';

export interface RedisTimeouts {
  /** TCP connect and handshake. */
  connectMs: number;
  /** Any one command, from send to reply (blocking reads get their block time on top). */
  commandMs: number;
}

export const DEFAULT_REDIS_TIMEOUTS: RedisTimeouts = { connectMs: 5_000, commandMs: 2_000 };

/**
 * A connection to `url`. `blockingMs` is the longest BLOCK this connection will issue (a
 * flusher's reader), added to its command timeout so a quiet stream is not an error.
 */
export function connectRedis(url: string, timeouts: RedisTimeouts, logger: Logger, blockingMs = 0): Redis {
  const redis = new Redis(url, {
    connectTimeout: timeouts.connectMs,
    commandTimeout: timeouts.commandMs + blockingMs,
    // A command fails after one reconnect attempt instead of queueing for twenty.
    maxRetriesPerRequest: 1,
  });
  // A listener also keeps ioredis from printing every failed attempt itself.
  logOutages(redis, logger, 'redis', errorSummary);
  return redis;
}

export { closeRedis } from '../core/close-redis.js';
