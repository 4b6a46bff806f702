// The scale-out log against a real Redis: batches written and acknowledged, a failed write kept
// and retried, a dead flusher's entries taken over, and four flushers sharing one stream.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisStreamLog, type StreamLogOptions } from './redis-stream.js';
import type { BatchWriter } from './write-buffer.js';

const REDIS_URL = process.env.FLOODGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const connections: Redis[] = [];
const connect = (): Redis => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  connections.push(redis);
  return redis;
};
let redis: Redis;

before(() => {
  redis = connect();
});
after(async () => {
  await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
});

/** A writer that behaves like the database: rows keyed by id, a replayed row changes nothing. */
function tableWriter() {
  const rows = new Map<number, number>();
  const state = { down: false, writes: 0 };
  const writer: BatchWriter<{ n: number }> = {
    async write(batch) {
      if (state.down) throw new Error('database unavailable');
      state.writes++;
      for (const { n } of batch) rows.set(n, (rows.get(n) ?? 0) + 1);
    },
  };
  return { writer, rows, state };
}

function options(key: string, consumer: string): StreamLogOptions {
  return { key, group: 'flushers', consumer, batchSize: 500, blockMs: 50, claimIdleMs: 200, retryMs: 20 };
}

const freshKey = () => `floodgate:test:history:${randomBytes(4).toString('hex')}`;
const entries = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ n: from + i }));

test('1,200 appended entries are written in batches of 500, acknowledged, and gone from the stream', async () => {
  const key = freshKey();
  const { writer, rows, state } = tableWriter();
  const log = new RedisStreamLog({ redis, reader: connect(), writer, options: options(key, 'a') });
  await log.init();
  await log.append(entries(0, 1200));
  let total = 0;
  for (let i = 0; i < 5 && total < 1200; i++) total += await log.flushOnce(false);
  assert.equal(total, 1200);
  assert.equal(state.writes, 3);
  assert.equal(rows.size, 1200);
  assert.equal(await redis.xlen(key), 0, 'acknowledged entries are deleted');
  const pending = (await redis.xpending(key, 'flushers')) as [number, ...unknown[]];
  assert.equal(pending[0], 0);
  await redis.del(key);
});

test('a failed write keeps the batch pending in this flusher, and it is written once when the database is back', async () => {
  const key = freshKey();
  const { writer, rows, state } = tableWriter();
  const log = new RedisStreamLog({ redis, reader: connect(), writer, options: options(key, 'a') });
  await log.init();
  await log.append(entries(0, 300));
  state.down = true;
  await assert.rejects(log.flushOnce(false), /database unavailable/);
  assert.equal(await redis.xlen(key), 300, 'nothing acknowledged');
  state.down = false;
  assert.equal(await log.flushOnce(false), 300, 'its own pending entries come first');
  assert.equal(rows.size, 300);
  assert.ok([...rows.values()].every((count) => count === 1));
  await redis.del(key);
});

test('a flusher that died holding a batch: another takes it over after claimIdleMs and writes it', async () => {
  const key = freshKey();
  const { writer, rows } = tableWriter();
  const survivor = new RedisStreamLog({ redis, reader: connect(), writer, options: options(key, 'survivor') });
  await survivor.init();
  await survivor.append(entries(0, 50));
  // The dead flusher read the batch (it is pending under its name) and never acknowledged it.
  await redis.xreadgroup('GROUP', 'flushers', 'dead', 'COUNT', 50, 'STREAMS', key, '>');
  assert.equal(await survivor.flushOnce(false), 0, 'not before the entries have been idle long enough');
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(await survivor.flushOnce(false), 50);
  assert.equal(survivor.stats.claimed, 50);
  assert.equal(rows.size, 50);
  assert.equal(await redis.xlen(key), 0);
  await redis.del(key);
});

test('four flushers on one stream, appends arriving meanwhile: every entry lands, none twice in the table', async () => {
  const key = freshKey();
  const { writer, rows } = tableWriter();
  const logs = ['f1', 'f2', 'f3', 'f4'].map((name) => new RedisStreamLog({ redis, reader: connect(), writer, options: { ...options(key, name), batchSize: 100 } }));
  await logs[0]!.init();
  for (const log of logs) log.start();
  for (let i = 0; i < 20; i++) await logs[i % 4]!.append(entries(i * 100, 100));
  const deadline = Date.now() + 10_000;
  while (rows.size < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await Promise.all(logs.map((log) => log.stop()));
  assert.equal(rows.size, 2000);
  assert.ok([...rows.values()].every((count) => count === 1), 'no entry written twice');
  assert.ok(logs.filter((log) => log.stats.written > 0).length >= 2, 'the work was shared');
  await redis.del(key);
});

const until = async (check: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'reached in time');
};

test('a running flusher gathers a trickle of entries into one batch within the interval', async () => {
  const key = freshKey();
  const { writer, rows, state } = tableWriter();
  // A long interval keeps "one batch" true on a slow machine.
  const log = new RedisStreamLog({ redis, reader: connect(), writer, options: { ...options(key, 'a'), batchSize: 10, intervalMs: 2_000 } });
  await log.init();
  log.start();
  for (let n = 0; n < 5; n++) await log.append(entries(n, 1));
  await until(() => rows.size === 5);
  assert.equal(state.writes, 1, 'five trickling entries, one transaction');
  await log.stop();
  await redis.del(key);
});

test('a full batch is written at once, not held for the interval (a minute here, beyond the poll)', async () => {
  const key = freshKey();
  const { writer, rows, state } = tableWriter();
  const log = new RedisStreamLog({ redis, reader: connect(), writer, options: { ...options(key, 'a'), batchSize: 10, intervalMs: 60_000 } });
  await log.init();
  log.start();
  await log.append(entries(0, 10));
  await until(() => rows.size === 10);
  assert.equal(state.writes, 1);
  await log.stop();
  await redis.del(key);
});
