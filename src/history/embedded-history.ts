// Embedded mode (one process): writes are accepted into memory and flushed to PGlite or
// PostgreSQL in batches; reads merge both. See memory-pending.ts for the hot side and
// merged-history.ts for what both modes share.
import type { Logger } from '../observability/logger.js';
import type { Database } from '../storage/database.js';
import type { History } from './history.js';
import { logWriteFailure } from './history-errors.js';
import { MemoryPendingStore, type MemoryPendingOptions } from './memory-pending.js';
import { MergedHistory } from './merged-history.js';

export interface EmbeddedHistoryOptions {
  /** Migrated already. */
  db: Database;
  flush: MemoryPendingOptions;
  logger: Logger;
  /** Close the database with the history (default false: the caller owns it). */
  ownsDatabase?: boolean;
  now?: () => number;
}

export function openEmbeddedHistory(options: EmbeddedHistoryOptions): History {
  const pending = new MemoryPendingStore(options.db, options.flush, logWriteFailure(options.logger, 'memory-buffer'), options.now);
  return new MergedHistory({
    mode: 'embedded',
    db: options.db,
    pending,
    logger: options.logger,
    retryMs: options.flush.retryMs,
    ownsDatabase: options.ownsDatabase ?? false,
    ...(options.now ? { now: options.now } : {}),
  });
}
