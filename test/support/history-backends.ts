// The three History backends one conformance suite runs against: embedded over PGlite, embedded
// over a real PostgreSQL, and scale-out over the machine's Redis and PostgreSQL. Each suite gets
// a fresh database (test/support/databases.ts) and, for scale-out, a stream key of its own,
// deleted afterwards with every key under it. Nothing flushes by itself (flushers 0, a long
// interval): a test decides when pending rows reach the database, with flush().
import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { pino } from 'pino';
import type { FlushConfig } from '../../src/history/history-flushers.js';
import type { History } from '../../src/history/history.js';
import { openEmbeddedHistory } from '../../src/history/embedded-history.js';
import { openRedisHistory, type RedisHistoryOptions } from '../../src/history/redis-history.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { POSTGRES_URL, testDatabase, type TestDatabase } from './databases.js';

import { dropRedisKeys, REDIS_TEST_URL as REDIS_URL } from './redis-keys.js';

export { dropRedisKeys, REDIS_TEST_URL as REDIS_URL } from './redis-keys.js';

export const HISTORY_BACKENDS = ['embedded on pglite', 'embedded on postgres', 'scale-out'] as const;
export type HistoryBackend = (typeof HISTORY_BACKENDS)[number];

/** Nothing is flushed unless a test asks. */
export const MANUAL_FLUSH: FlushConfig = { batch_size: 500, interval_ms: 60_000, max_pending: 100_000, retry_ms: 50, flushers: 0, claim_idle_ms: 15_000 };

export const silentLogger = pino({ level: 'silent' });

/** A stream key no other test run uses; every key of the history starts with it. */
export const testStreamKey = (): string => `floodgate:test:${process.pid}:${randomBytes(4).toString('hex')}`;


/** A scale-out node over `db` and `streamKey`, manual flush unless `flush` says otherwise. */
export function openNode(db: Database, streamKey: string, flush: Partial<FlushConfig> = {}, extra: Partial<RedisHistoryOptions> = {}): Promise<History> {
  return openRedisHistory({ db, redisUrl: REDIS_URL, streamKey, flush: { ...MANUAL_FLUSH, ...flush }, logger: silentLogger, ...extra });
}

/** An embedded history over `db`, manual flush unless `flush` says otherwise. */
export function openEmbedded(db: Database, flush: Partial<FlushConfig> = {}): History {
  const f = { ...MANUAL_FLUSH, ...flush };
  return openEmbeddedHistory({ db, logger: silentLogger, flush: { batchSize: f.batch_size, intervalMs: f.interval_ms, maxBuffered: f.max_pending, retryMs: f.retry_ms } });
}

/** What a suite from eachHistory sees: read inside tests, once before() has opened everything. */
export interface HistorySuite {
  readonly backend: HistoryBackend;
  readonly history: History;
  readonly db: Database;
  /** Writes everything pending to the database now. */
  flush(): Promise<void>;
}

/** Declares `suite` once per backend, inside `describe('<title> on <backend>')`. */
export function eachHistory(title: string, suite: (s: HistorySuite) => void): void {
  for (const backend of HISTORY_BACKENDS) {
    describe(`${title} on ${backend}`, () => {
      let database: TestDatabase | undefined;
      let history: History | undefined;
      const streamKey = testStreamKey();
      const s: HistorySuite = {
        backend,
        get history() {
          if (!history) throw new Error('the history is opened in before(); read it inside tests');
          return history;
        },
        get db() {
          if (!database) throw new Error('the database is opened in before(); read it inside tests');
          return database.db;
        },
        async flush() {
          await s.history.flushNow!();
        },
      };
      before(async () => {
        database = await testDatabase(backend === 'embedded on pglite' ? 'pglite' : 'postgres');
        await migrate(database.db);
        history = backend === 'scale-out' ? await openNode(database.db, streamKey) : openEmbedded(database.db);
      });
      after(async () => {
        await history?.close();
        await database?.drop();
        if (backend === 'scale-out') await dropRedisKeys(streamKey);
      });
      suite(s);
    });
  }
}

/** Polls `check` until it holds or `timeoutMs` passes (then fails with `what`). Never a speed assertion. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A PostgreSQL schema of its own with its URL, for tests that hand the database to another
 * process (the URL sets search_path, so the child sees the same tables).
 */
export async function postgresSchemaUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = await openDatabase({ url: POSTGRES_URL, maxConnections: 1 });
  const schema = `fg_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    url,
    async drop() {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}
