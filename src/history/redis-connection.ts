// Redis connections for the history, always with timeouts: a Redis that hangs (not down, just
// silent) must turn a request into a quick 503, never hold it forever. ioredis arms
// commandTimeout for every command, queued ones included, so a command waiting for a reconnect
// fails in time too.
import { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
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
  // One warning per outage, not one per reconnect attempt; ioredis would otherwise print them itself.
  let failing = false;
  redis.on('error', (error: unknown) => {
    if (failing) return;
    failing = true;
    logger.warn({ err: errorSummary(error) }, 'redis connection failed; reconnecting');
  });
  redis.on('ready', () => {
    if (failing) logger.info('redis connection restored');
    failing = false;
  });
  return redis;
}

/** Closes politely, or drops the socket when Redis does not answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
