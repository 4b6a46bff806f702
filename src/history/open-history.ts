// Opens the history the configuration asks for: the database (PostgreSQL at database_url, else
// PGlite in data_dir), its migrations, then scale-out over Redis when redis_url is set, embedded
// otherwise. DATABASE_URL and REDIS_URL override the file, as everywhere else.
import type { StorageConfig } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { openDatabase } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { openEmbeddedHistory } from './embedded-history.js';
import type { History } from './history.js';
import type { RedisTimeouts } from './redis-connection.js';
import { openRedisHistory } from './redis-history.js';
import { crashPointFromEnv } from './redis-stream.js';

export interface OpenHistoryOptions {
  /** Redis connect and command timeouts (tests shorten them). */
  redisTimeouts?: RedisTimeouts;
}

export async function openHistory(storage: StorageConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env, options: OpenHistoryOptions = {}): Promise<History> {
  const databaseUrl = env.DATABASE_URL || storage.database_url;
  const redisUrl = env.REDIS_URL || storage.redis_url;
  const db = await openDatabase(databaseUrl ? { url: databaseUrl } : { dataDir: storage.data_dir });
  try {
    await migrate(db);
    if (!redisUrl) {
      const { batch_size, interval_ms, max_pending, retry_ms } = storage.flush;
      return openEmbeddedHistory({
        db, ownsDatabase: true, logger,
        flush: { batchSize: batch_size, intervalMs: interval_ms, maxBuffered: max_pending, retryMs: retry_ms },
      });
    }
    if (!databaseUrl) {
      logger.warn('scale-out history over PGlite: nodes sharing this Redis must share one PostgreSQL (set database_url), or each writes the others\' history into its own file');
    }
    const crashPointMs = crashPointFromEnv(env);
    if (crashPointMs !== undefined) logger.warn({ crashPointMs }, 'FLOODGATE_CRASHPOINT_AFTER_COMMIT_MS is set: flushers pause after each commit (crash tests only)');
    return await openRedisHistory({
      db, ownsDatabase: true, redisUrl, streamKey: storage.stream_key, flush: storage.flush, logger,
      ...(options.redisTimeouts ? { redisTimeouts: options.redisTimeouts } : {}),
      ...(crashPointMs !== undefined ? { crashPointMs } : {}),
    });
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}
