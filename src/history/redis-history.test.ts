// Scale-out specifics, on the machine's Redis and PostgreSQL: several nodes share one stream, so
// they see each other's pending writes at once and never give one seq twice; flushers share the
// work without deadlocks or duplicates; a flusher that dies after its commit is taken over and
// nothing is written twice; a database outage sheds with 503 and loses nothing; drain empties.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { GatewayError } from '../core/errors.js';
import { migrate } from '../storage/migrate.js';
import { testDatabase, type TestDatabase } from '../../test/support/databases.js';
import { dropRedisKeys, eventually, openNode, REDIS_URL, testStreamKey } from '../../test/support/history-backends.js';
import { outageDatabase } from '../../test/support/history-outage.js';
import type { History, NewItem } from './history.js';
import { decodeEntry, type FlushConfig } from './history-flushers.js';
import { historyWriter, type HistoryEntry } from './history-writer.js';
import { historyKeys } from './redis-keys.js';
import { RedisStreamLog } from './redis-stream.js';

let t: TestDatabase;
let redis: Redis;
const streamKeys: string[] = [];
const opened: History[] = [];

before(async () => {
  t = await testDatabase('postgres');
  await migrate(t.db);
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});
after(async () => {
  await Promise.all(opened.map((h) => h.close().catch(() => {})));
  await Promise.all(streamKeys.map((prefix) => dropRedisKeys(prefix)));
  await redis.quit();
  await t.drop();
});

const freshKey = () => {
  const key = testStreamKey();
  streamKeys.push(key);
  return key;
};
const node = async (key: string, flush: Partial<FlushConfig> = {}) => {
  const h = await openNode(t.db, key, flush);
  opened.push(h);
  return h;
};
const turn = (n: number): NewItem => ({ type: 'message', body: { role: 'user', content: [{ type: 'input_text', text: `turn ${n}` }] } });
const owner = () => `owner_${randomBytes(4).toString('hex')}`;
const count = async (sql: string, params: unknown[]) => (await t.db.query<{ n: number }>(sql, params))[0]!.n;
const itemCount = (ids: string[]) => count('SELECT count(*)::int8 AS n FROM conversation_items WHERE conversation_id = ANY($1::text[])', [ids]);
const duplicateSeqs = (ids: string[]) => count(
  'SELECT count(*)::int8 AS n FROM (SELECT 1 FROM conversation_items WHERE conversation_id = ANY($1::text[]) GROUP BY conversation_id, seq HAVING count(*) > 1) AS d', [ids],
);

test('two nodes see each other\'s pending writes at once, and concurrent appends from both never share a seq', async () => {
  const key = freshKey();
  const [a, b] = [await node(key), await node(key)];
  const alice = owner();
  const { conversation } = await a.createConversation(alice, { topic: 'shared' }, [turn(1)]);
  assert.deepEqual(await b.getConversation(alice, conversation.id), conversation);
  assert.deepEqual((await b.listConversations(alice, { limit: 10, order: 'desc' })).data, [conversation]);
  await b.appendItems(alice, conversation.id, [turn(2)]);
  assert.equal((await a.listItems(alice, conversation.id, { limit: 10, order: 'asc' }))!.data.length, 2);

  const added = await Promise.all(Array.from({ length: 40 }, (_, n) => (n % 2 ? a : b).appendItems(alice, conversation.id, [turn(n), turn(n)])));
  const seqs = added.flatMap((rows) => rows!.map((row) => row.seq)).sort((x, y) => x - y);
  assert.deepEqual(seqs, Array.from({ length: 80 }, (_, i) => i + 3));

  // A state that expired (or was lost) while items were still pending: rebuilt above them.
  await redis.del(historyKeys(key).state(conversation.id));
  const [next] = (await b.appendItems(alice, conversation.id, [turn(99)]))!;
  assert.equal(next!.seq, 83);
  // And once everything is committed, from the database's max(seq), both nodes at once.
  await a.flushNow!();
  await redis.del(historyKeys(key).state(conversation.id));
  const racing = await Promise.all([a, b, a, b].map((h) => h.appendItems(alice, conversation.id, [turn(100)])));
  assert.deepEqual(racing.map((rows) => rows![0]!.seq).sort((x, y) => x - y), [84, 85, 86, 87]);
  await b.flushNow!();
  assert.equal(await duplicateSeqs([conversation.id]), 0);
  assert.equal(await itemCount([conversation.id]), 87);
});

test('four flushers write concurrently while two nodes append: no deadlock, no duplicate, nothing lost', async () => {
  const key = freshKey();
  const flushing = await node(key, { flushers: 4, batch_size: 25, interval_ms: 10 });
  const appending = await node(key);
  const alice = owner();
  const conversations = await Promise.all(Array.from({ length: 30 }, () => appending.createConversation(alice, {}, [turn(0), turn(1)])));
  const ids = conversations.map((c) => c.conversation.id);
  await Promise.all(ids.map(async (id, i) => {
    for (let k = 0; k < 5; k++) await ((i + k) % 2 ? flushing : appending).appendItems(alice, id, [turn(2 * k + 2), turn(2 * k + 3)]);
  }));
  await eventually('360 items flushed and the stream empty', async () => (await itemCount(ids)) === 360 && (await redis.xlen(key)) === 0);
  assert.equal(await duplicateSeqs(ids), 0);
  assert.equal(await count('SELECT count(*)::int8 AS n FROM conversations WHERE owner = $1', [alice]), 30);
  assert.equal(flushing.stats().failedWrites, 0, 'no write failed (a deadlock would have)');
  assert.ok(flushing.stats().batches >= 2);
  for (const id of ids.slice(0, 3)) {
    const page = await appending.listItems(alice, id, { limit: 100, order: 'asc' });
    assert.deepEqual(page!.data.map((row) => row.seq), Array.from({ length: 12 }, (_, i) => i + 1));
  }
});

test('a flusher that dies between its commit and XACK: another claims the entries and nothing is written twice', async () => {
  const key = freshKey();
  const survivor = await node(key, { claim_idle_ms: 300 });
  const alice = owner();
  const { conversation } = await survivor.createConversation(alice, {}, [turn(1), turn(2)]);
  const responseId = `resp_${randomBytes(6).toString('hex')}`;
  await survivor.saveResponse({
    id: responseId, owner: alice, conversationId: conversation.id, previousResponseId: null,
    model: 'sim-chat', status: 'completed', body: {}, inputItems: [], createdAt: 1,
  });

  const dying = new RedisStreamLog<HistoryEntry>({
    redis, reader: redis, writer: historyWriter(t.db), decode: decodeEntry,
    options: { key, group: 'flushers', consumer: 'dying', batchSize: 100, blockMs: 10, claimIdleMs: 300, retryMs: 10 },
    acknowledge: async () => {
      throw new Error('killed before XACK');
    },
  });
  await assert.rejects(dying.flushOnce(false), /killed before XACK/);
  assert.equal(await itemCount([conversation.id]), 2, 'committed');
  assert.equal(await redis.xlen(key), 4, 'but not acknowledged');
  assert.equal((await survivor.listItems(alice, conversation.id, { limit: 10, order: 'asc' }))!.data.length, 2, 'in both places, read once');
  // Deleted between the dead flusher's commit and the takeover: the replay must not bring it back.
  assert.equal(await survivor.deleteResponse(alice, responseId), true);

  await eventually('the survivor claims the idle entries', async () => (await survivor.flushNow!()) > 0);
  assert.equal(await redis.xlen(key), 0);
  assert.equal(await itemCount([conversation.id]), 2);
  assert.equal(await survivor.getResponse(alice, responseId), undefined);
  assert.deepEqual(await redis.keys(`${key}:item*`), [], 'the pending indexes are empty');
  assert.equal(await redis.exists(historyKeys(key).conversation(conversation.id)), 0);
});

test('database down: writes are accepted up to max_pending, then 503 with Retry-After; after recovery all are written once', async () => {
  const key = freshKey();
  const outage = await outageDatabase(t.db);
  const h = await openNode(outage.db, key, { flushers: 1, max_pending: 40, batch_size: 10, interval_ms: 20, retry_ms: 50 });
  opened.push(h);
  try {
    outage.down();
    const alice = owner();
    const accepted: Array<{ id: string; items: number }> = [];
    let refusal: unknown;
    while (!refusal) {
      try {
        const { conversation } = await h.createConversation(alice, {}, [turn(1), turn(2)]);
        accepted.push({ id: conversation.id, items: 2 });
        await h.appendItems(alice, conversation.id, [turn(3)]); // a pending conversation needs no database
        accepted.at(-1)!.items = 3;
      } catch (error) {
        refusal = error;
      }
    }
    assert.ok(refusal instanceof GatewayError, String(refusal));
    assert.equal(refusal.status, 503);
    assert.equal(refusal.code, 'history_backlog');
    assert.ok(refusal.retryable && refusal.retryAfterSeconds! >= 1);
    assert.ok((await redis.xlen(key)) <= 40, 'the bound holds');
    assert.ok(accepted.length >= 9);
    assert.equal((await h.getConversation(alice, accepted[0]!.id))?.id, accepted[0]!.id, 'pending reads need no database');
    await assert.rejects(h.listItems(alice, accepted[0]!.id, { limit: 10, order: 'asc' }), (e: GatewayError) => e.code === 'history_unavailable' && e.status === 503);
    await eventually('the flusher is failing', () => h.stats().failedWrites >= 2);

    outage.up();
    const ids = accepted.map((c) => c.id);
    const expected = accepted.reduce((sum, c) => sum + c.items, 0);
    await eventually('everything written after recovery', async () => (await redis.xlen(key)) === 0 && (await itemCount(ids)) === expected);
    assert.equal(await count('SELECT count(*)::int8 AS n FROM conversations WHERE owner = $1', [alice]), accepted.length);
    assert.equal(await duplicateSeqs(ids), 0);
    await h.createConversation(alice, {}, [turn(1)]); // accepted again
  } finally {
    outage.up();
    await outage.close();
  }
});

test('drain stops the loops after their batches in hand and writes everything pending; later writes are refused', async () => {
  const key = freshKey();
  // A long interval: without the drain, the loops would hold their partial batches for a minute.
  const h = await node(key, { flushers: 2, interval_ms: 60_000 });
  const alice = owner();
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const { conversation } = await h.createConversation(alice, {}, [turn(0)]);
    await h.appendItems(alice, conversation.id, Array.from({ length: 20 }, (_, n) => turn(n + 1)));
    ids.push(conversation.id);
  }
  assert.equal(await h.drain(30_000), true);
  assert.equal(await itemCount(ids), 210);
  assert.equal(await redis.xlen(key), 0);
  await assert.rejects(h.createConversation(alice, {}, []), (e: GatewayError) => e.code === 'shutting_down' && e.status === 503);
  h.recordUsage({ id: 'u_after_drain', identity: alice, model: 'm', deployment: null, promptTokens: 0, completionTokens: 0, latencyMs: 1, status: 200, costUsd: null, createdAt: 1 });
  await eventually('the refused usage record is counted', () => h.stats().droppedUsage === 1);
});

test('an entry that cannot be decoded is dropped (and acknowledged) instead of stalling every flusher', async () => {
  const key = freshKey();
  const h = await node(key);
  const alice = owner();
  const { conversation } = await h.createConversation(alice, {}, [turn(1)]);
  await redis.xadd(key, '*', 'k', 'not-a-kind', 'd', '{}');
  await redis.xadd(key, '*', 'k', 'item', 'd', '{not json');
  assert.equal(await h.flushNow!(), 4);
  assert.equal(await redis.xlen(key), 0);
  assert.equal(await itemCount([conversation.id]), 1);
});
