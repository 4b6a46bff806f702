// "SIGTERM drains every buffer to the database within 30 s", with a real `serve` process whose
// flush interval is a minute, so everything it accepted is still buffered when the signal comes.
// Embedded mode over PostgreSQL: the exit leaves every item answered 200, and the usage records,
// in the database exactly once. Scale-out: the exit loses nothing acknowledged; whatever the node
// did not write itself stays in the stream, and a flusher started afterwards writes it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Database } from '../src/storage/database.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';
import { testDatabase, type TestDatabase } from './support/databases.js';
import { dropRedisKeys, eventually, REDIS_URL } from './support/history-backends.js';
import { configYaml, flusherReady, listeningUrl, scratchDir, spawnFloodgate, type FloodgateProcess } from './support/crash-processes.js';
import { audit, auditFailures, call, itemText, Ledger, listAllItems, message, newSession, type ItemResource } from './support/crash-ledger.js';

/** The bound for a drain on SIGTERM. */
const DRAIN_LIMIT_MS = 30_000;
/** Longer than the test: nothing reaches the database before the signal. */
const HELD = { batch_size: 10_000, interval_ms: 60_000, max_pending: 100_000, retry_ms: 200 };

const tag = randomBytes(4).toString('hex');
const prefix = `ledger:${tag}:`;
const sharedEnv = { FLOODGATE_SESSION_SECRET: randomBytes(32).toString('base64url') };

let simulator: RunningSimulator;
let files: ReturnType<typeof scratchDir>;
const started = new Set<FloodgateProcess>();
const databases: TestDatabase[] = [];

before(async () => {
  simulator = await startSimulator({ host: '127.0.0.1', port: 0, pacing: 'instant' });
  files = scratchDir();
});

after(async () => {
  for (const child of started) child.kill('SIGKILL');
  await Promise.all([...started].map((child) => child.exited));
  await simulator?.close();
  await Promise.all(databases.map((database) => database.drop()));
  files?.remove();
});

function start(args: string[], env: Record<string, string> = {}): FloodgateProcess {
  const child = spawnFloodgate(args, { ...sharedEnv, ...env });
  started.add(child);
  return child;
}

async function freshDatabase(): Promise<TestDatabase> {
  const database = await testDatabase('postgres');
  databases.push(database);
  return database;
}

interface Load {
  ledger: Ledger;
  chats: number;
  conversations: number;
}

/**
 * Three conversations (one created with two items), 100 add-items calls of 3 items from 4
 * concurrent callers, and 10 chat completions; every call must succeed.
 */
async function load(baseUrl: string): Promise<Load> {
  const ledger = new Ledger();
  const token = await newSession(baseUrl);
  assert.ok(token, 'a session');
  const conversations: string[] = [];
  for (let n = 0; n < 3; n++) {
    const items = n === 0 ? [`${prefix}initial-0`, `${prefix}initial-1`].map(message) : [];
    const reply = await call(baseUrl, 'POST', '/v1/conversations', token, { metadata: { n: String(n) }, items });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const id = (reply.body as { id: string }).id;
    ledger.conversations.set(id, token);
    conversations.push(id);
  }
  // A create answers with the conversation only: the initial items' ids come from a read (of the buffer).
  const initial = await listAllItems(baseUrl, token, conversations[0]!);
  assert.deepEqual(initial.map(itemText), [`${prefix}initial-0`, `${prefix}initial-1`]);
  initial.forEach((item: ItemResource) => ledger.items.set(item.id, { id: item.id, conversationId: conversations[0]!, text: itemText(item)! }));

  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < 100) {
      const n = next++;
      const conversation = conversations[n % conversations.length]!;
      const texts = [0, 1, 2].map((i) => `${prefix}${n}-${i}`);
      const reply = await call(baseUrl, 'POST', `/v1/conversations/${conversation}/items`, token, { items: texts.map(message) });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      ledger.addReply(conversation, texts, reply);
    }
  };
  await Promise.all([caller(), caller(), caller(), caller()]);
  const chats = 10;
  for (let n = 0; n < chats; n++) {
    const reply = await call(baseUrl, 'POST', '/v1/chat/completions', token, { model: 'chat', messages: [{ role: 'user', content: `hello ${n}` }], max_tokens: 8 });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
  }
  return { ledger, chats, conversations: conversations.length };
}

async function counts(db: Database): Promise<{ conversations: number; items: number; usage: number }> {
  const [row] = await db.query<{ conversations: number; items: number; usage: number }>(`SELECT
    (SELECT count(*) FROM conversations) AS conversations,
    (SELECT count(*) FROM conversation_items) AS items,
    (SELECT count(*) FROM usage_records) AS usage`);
  return { conversations: Number(row!.conversations), items: Number(row!.items), usage: Number(row!.usage) };
}

/** SIGTERM, then the exit: code 0 within the 30 s. Returns how long it took. */
async function terminate(gateway: FloodgateProcess): Promise<number> {
  const signalled = Date.now();
  gateway.kill('SIGTERM');
  const limit = new Promise<'limit'>((resolve) => setTimeout(resolve, DRAIN_LIMIT_MS, 'limit').unref());
  const exit = await Promise.race([gateway.exited, limit]);
  const tookMs = Date.now() - signalled;
  assert.notEqual(exit, 'limit', `the gateway did not exit within ${DRAIN_LIMIT_MS} ms of SIGTERM:\n${gateway.output()}`);
  assert.deepEqual(exit, { code: 0, signal: null }, `the gateway exits cleanly:\n${gateway.output()}`);
  return tookMs;
}

/** Every ledger item exactly once, nothing else, the conversations, and one usage record per chat. */
async function assertAllStored(db: Database, loaded: Load): Promise<void> {
  const found = await audit(db, loaded.ledger, prefix);
  assert.deepEqual(auditFailures(found), []);
  assert.equal(found.notInLedger, 0, 'every call was answered, so nothing is stored that the ledger lacks');
  assert.deepEqual(await counts(db), { conversations: loaded.conversations, items: loaded.ledger.items.size, usage: loaded.chats });
}

describe('SIGTERM drains every buffer to the database within 30 s', () => {
  test('embedded over PostgreSQL: the buffered items and usage records are all written before the exit', async () => {
    const database = await freshDatabase();
    const config = files.write('embedded.yaml', configYaml(simulator.url, { database_url: database.url, data_dir: 'memory://', flush: HELD, drain_ms: DRAIN_LIMIT_MS }));
    const gateway = start(['serve', '--config', config]);
    const baseUrl = await listeningUrl(gateway);

    const loaded = await load(baseUrl);
    assert.equal(loaded.ledger.items.size, 302);
    assert.deepEqual(await counts(database.db), { conversations: 0, items: 0, usage: 0 }, 'all still buffered in the gateway');

    const tookMs = await terminate(gateway);
    await assertAllStored(database.db, loaded);
    console.log(`history-drain (embedded): ${loaded.ledger.items.size} items, ${loaded.conversations} conversations, ${loaded.chats} usage records buffered; drained and exited ${tookMs} ms after SIGTERM`);
  });

  test('scale-out: the exit loses nothing acknowledged, and what is left in the stream is written by a later flusher', async () => {
    const database = await freshDatabase();
    const streamKey = `floodgate:test:drain:${process.pid}:${tag}`;
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const storage = (flush: Record<string, unknown>) => ({ database_url: database.url, redis_url: REDIS_URL, stream_key: streamKey, flush, drain_ms: DRAIN_LIMIT_MS });
      const gatewayConfig = files.write('scale-out.yaml', configYaml(simulator.url, storage({ ...HELD, flushers: 1, claim_idle_ms: 150_000 })));
      const gateway = start(['serve', '--config', gatewayConfig]);
      const baseUrl = await listeningUrl(gateway);

      const loaded = await load(baseUrl);
      const entries = loaded.conversations + loaded.ledger.items.size + loaded.chats;
      // Usage records are appended off the request path: wait until the last one is in.
      await eventually('every accepted write is in the stream', async () => (await redis.xlen(streamKey)) === entries);
      assert.deepEqual(await counts(database.db), { conversations: 0, items: 0, usage: 0 }, 'all still in the stream, in the flusher\'s hand');

      const tookMs = await terminate(gateway);
      const leftInStream = await redis.xlen(streamKey);

      // A short claim_idle_ms: whatever the gateway left pending under its own name is taken over at once.
      const flusherConfig = files.write('flusher.yaml', configYaml(simulator.url, storage({ batch_size: 100, interval_ms: 50, retry_ms: 200, claim_idle_ms: 1_000 })));
      const flusher = start(['flush', '--config', flusherConfig], { LOG_LEVEL: 'info' });
      await flusherReady(flusher);
      await eventually('the stream is empty and nothing is pending', async () => {
        const summary = (await redis.xpending(streamKey, 'flushers')) as [number, ...unknown[]];
        return (await redis.xlen(streamKey)) === 0 && summary[0] === 0;
      });
      await assertAllStored(database.db, loaded);
      flusher.kill('SIGTERM');
      assert.deepEqual(await flusher.exited, { code: 0, signal: null });
      console.log(`history-drain (scale-out): ${entries} stream entries (${loaded.ledger.items.size} items); exited ${tookMs} ms after SIGTERM, leaving ${leftInStream} in the stream for the next flusher`);
    } finally {
      await dropRedisKeys(streamKey);
      await redis.quit();
    }
  });
});
