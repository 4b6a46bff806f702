// Scale-out mode: several gateway nodes share one Redis and one PostgreSQL. A write is one Redis
// script (stream entry + read indexes + seq), the caller's success waits only for that; flushers
// (history-flushers.ts) move the stream into PostgreSQL and acknowledge after the commit; reads
// merge PostgreSQL with the pending indexes (merged-history.ts). Nothing hot is in this process.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../observability/logger.js';
import type { Database } from '../storage/database.js';
import type { History } from './history.js';
import { FlusherPool, type FlushConfig } from './history-flushers.js';
import { MergedHistory } from './merged-history.js';
import { closeRedis, connectRedis, DEFAULT_REDIS_TIMEOUTS, type RedisTimeouts } from './redis-connection.js';
import { historyKeys } from './redis-keys.js';
import { RedisPendingStore } from './redis-pending.js';
import { historyScripts } from './redis-scripts.js';

/** How long a conversation's state (owner, last seq) stays in Redis unused; see redis-pending.ts. */
export const DEFAULT_STATE_TTL_MS = 24 * 60 * 60 * 1000;

export interface RedisHistoryOptions {
  /** Migrated already. */
  db: Database;
  /** Close the database with the history (default false: the caller owns it). */
  ownsDatabase?: boolean;
  redisUrl: string;
  /** The stream's key, also the prefix of every other key (redis-keys.ts). */
  streamKey: string;
  flush: FlushConfig;
  logger: Logger;
  redisTimeouts?: RedisTimeouts;
  stateTtlMs?: number;
  /** Test hook, see redis-stream.ts crashPoint(). */
  crashPointMs?: number;
}

export async function openRedisHistory(options: RedisHistoryOptions): Promise<History> {
  const { flush, logger } = options;
  const timeouts = options.redisTimeouts ?? DEFAULT_REDIS_TIMEOUTS;
  const stateTtlMs = options.stateTtlMs ?? DEFAULT_STATE_TTL_MS;
  const redis = connectRedis(options.redisUrl, timeouts, logger);
  const scripts = historyScripts(redis);
  const keys = historyKeys(options.streamKey);
  const flushers = new FlusherPool({
    redis, scripts, keys, flush, logger, stateTtlMs, db: options.db,
    connectReader: (blockingMs) => connectRedis(options.redisUrl, timeouts, logger, blockingMs),
    loops: flush.flushers,
    consumerPrefix: consumerPrefix(),
    ...(options.crashPointMs !== undefined ? { crashPointMs: options.crashPointMs } : {}),
  });
  try {
    await flushers.init();
  } catch (error) {
    await flushers.close().catch(() => {});
    await closeRedis(redis);
    throw error;
  }
  flushers.start();
  const pending = new RedisPendingStore({ redis, scripts, keys, flushers, maxPending: flush.max_pending, retryMs: flush.retry_ms, stateTtlMs });
  return new MergedHistory({ mode: 'scale-out', db: options.db, pending, logger, retryMs: flush.retry_ms, ownsDatabase: options.ownsDatabase ?? false });
}

/** Unique per process: host, pid and a random tag (pids repeat across containers). */
export function consumerPrefix(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
