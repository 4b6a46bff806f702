// `floodgate flush` (runFlushers) against the machine's Redis and PostgreSQL: it writes what API
// nodes append and stops on its signal; and with the crash-point test hook set, a flusher killed
// with SIGKILL between its commit and its XACK loses nothing and costs no duplicate, because
// another flusher claims the entries and the replayed inserts are no-ops.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { openDatabase, type Database } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { storageSchema } from '../config/schema.js';
import {
  dropRedisKeys, eventually, MANUAL_FLUSH, openNode, postgresSchemaUrl, REDIS_URL, silentLogger, testStreamKey,
} from '../../test/support/history-backends.js';
import type { NewItem } from './history.js';
import { runFlushers } from './run-flushers.js';

let schema: Awaited<ReturnType<typeof postgresSchemaUrl>>;
let db: Database;
let redis: Redis;
const keys: string[] = [];

before(async () => {
  schema = await postgresSchemaUrl();
  db = await openDatabase({ url: schema.url, maxConnections: 4 });
  await migrate(db);
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});
after(async () => {
  await Promise.all(keys.map((prefix) => dropRedisKeys(prefix)));
  await redis.quit();
  await db.close();
  await schema.drop();
});

const turn = (n: number): NewItem => ({ type: 'message', body: { text: `turn ${n}` } });
const storageFor = (streamKey: string, flush: Partial<typeof MANUAL_FLUSH> = {}) => storageSchema.parse({
  database_url: schema.url, redis_url: REDIS_URL, stream_key: streamKey, flush: { ...MANUAL_FLUSH, interval_ms: 20, flushers: 2, ...flush },
});
const itemCount = async (ids: string[]) =>
  (await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM conversation_items WHERE conversation_id = ANY($1::text[])', [ids]))[0]!.n;

test('runFlushers writes what an append-only node accepts, and stops on its signal', async () => {
  const key = testStreamKey();
  keys.push(key);
  const api = await openNode(db, key); // flushers: 0
  const stop = new AbortController();
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  const running = runFlushers(storageFor(key), silentLogger, { signal: stop.signal, env: {}, onReady: ready });
  await started;
  const { conversation } = await api.createConversation('alice', {}, [turn(1), turn(2)]);
  await api.appendItems('alice', conversation.id, [turn(3)]);
  await eventually('flushed by the standalone flushers', async () => (await itemCount([conversation.id])) === 3);
  stop.abort();
  await running;
  await api.close();
});

test('crash point: a flusher killed (SIGKILL) after its commit, before XACK; another claims the batch and nothing is written twice', async () => {
  const key = testStreamKey();
  keys.push(key);
  const api = await openNode(db, key, { claim_idle_ms: 300 });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const { conversation } = await api.createConversation('alice', {}, [turn(1), turn(2), turn(3)]);
    ids.push(conversation.id);
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/history-flusher-child.ts'], {
    env: { ...process.env, FLOODGATE_TEST_STORAGE: JSON.stringify(storageFor(key, { flushers: 1, claim_idle_ms: 300 })), FLOODGATE_CRASHPOINT_AFTER_COMMIT_MS: '60000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let stderr = '';
  const committed = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /floodgate-crashpoint: committed (\d+) entries/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', () => reject(new Error(`the flusher exited before its crash point: ${stderr.slice(0, 500)}`)));
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  assert.equal(committed, 20, 'the whole stream in one batch');
  assert.equal(await itemCount(ids), 15, 'committed before the kill');
  assert.equal(await redis.xlen(key), 20, 'never acknowledged');

  await eventually('the survivor claims the dead flusher\'s entries', async () => (await api.flushNow!()) > 0);
  assert.equal(await redis.xlen(key), 0);
  assert.equal(await itemCount(ids), 15);
  const pending = (await redis.xpending(key, 'flushers')) as [number, ...unknown[]];
  assert.equal(pending[0], 0);
  const [conversations] = await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM conversations WHERE id = ANY($1::text[])', [ids]);
  assert.equal(conversations!.n, 5);
  await api.close();
});
