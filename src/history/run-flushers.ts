// `floodgate flush`: a process that only moves history from the Redis stream into the database,
// for deployments that run API nodes with flushers = 0. It stops on SIGINT/SIGTERM (or the given
// signal) after finishing the batches in hand; whatever is still in the stream waits for the next
// flusher, acknowledged by nobody, so nothing is lost.
import type { StorageConfig } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { openDatabase } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { FlusherPool } from './history-flushers.js';
import { closeRedis, connectRedis, DEFAULT_REDIS_TIMEOUTS, type RedisTimeouts } from './redis-connection.js';
import { consumerPrefix, DEFAULT_STATE_TTL_MS } from './redis-history.js';
import { historyKeys } from './redis-keys.js';
import { historyScripts } from './redis-scripts.js';
import { crashPointFromEnv } from './redis-stream.js';

export interface RunFlushersOptions {
  env?: NodeJS.ProcessEnv;
  /** Stops the flushers when aborted; default: the process' SIGINT or SIGTERM. */
  signal?: AbortSignal;
  redisTimeouts?: RedisTimeouts;
  /** Told once the loops run (tests wait for it). */
  onReady?: () => void;
}

/** Runs storage.flush.flushers loops (at least one) until the signal; resolves once all stopped. */
export async function runFlushers(storage: StorageConfig, logger: Logger, options: RunFlushersOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const redisUrl = env.REDIS_URL || storage.redis_url;
  const databaseUrl = env.DATABASE_URL || storage.database_url;
  if (!redisUrl) throw new Error('floodgate flush needs Redis: set storage.redis_url or REDIS_URL');
  const stop = stopSignal(options.signal);
  const db = await openDatabase(databaseUrl ? { url: databaseUrl } : { dataDir: storage.data_dir });
  try {
    await migrate(db);
    const timeouts = options.redisTimeouts ?? DEFAULT_REDIS_TIMEOUTS;
    const redis = connectRedis(redisUrl, timeouts, logger);
    const loops = Math.max(1, storage.flush.flushers);
    const crashPointMs = crashPointFromEnv(env);
    const flushers = new FlusherPool({
      redis, scripts: historyScripts(redis), keys: historyKeys(storage.stream_key), db, flush: storage.flush, logger,
      connectReader: (blockingMs) => connectRedis(redisUrl, timeouts, logger, blockingMs),
      loops, consumerPrefix: consumerPrefix(), stateTtlMs: DEFAULT_STATE_TTL_MS,
      ...(crashPointMs !== undefined ? { crashPointMs } : {}),
    });
    try {
      await flushers.init();
      flushers.start();
      logger.info({ stream: storage.stream_key, flushers: loops }, 'flushing history from redis to the database');
      options.onReady?.();
      await stop.stopped;
      logger.info('stopping: finishing the batches in hand');
    } finally {
      await flushers.close();
      await closeRedis(redis);
    }
  } finally {
    stop.dispose();
    await db.close();
  }
}

/** Resolves on `signal`'s abort, or on the first SIGINT/SIGTERM when no signal is given. */
function stopSignal(signal: AbortSignal | undefined): { stopped: Promise<void>; dispose(): void } {
  if (signal) {
    const stopped = signal.aborted ? Promise.resolve() : new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    return { stopped, dispose: () => {} };
  }
  let onSignal = (): void => {};
  const stopped = new Promise<void>((resolve) => {
    onSignal = () => resolve();
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    stopped,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
