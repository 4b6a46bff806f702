// The hot buffer's promises: batches by size and by time, nothing lost or written twice across a
// database outage, a bounded backlog that sheds with 503, and a drain that empties it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.js';
import { openDatabase } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { insertItems, type ItemRow } from '../storage/conversation-store.js';
import { MemoryWriteBuffer, type BatchWriter } from './write-buffer.js';

/** A writer that records committed batches and can be switched off like a database going down. */
function recordingWriter() {
  const committed: number[][] = [];
  const state = { down: false };
  const writer: BatchWriter<number> = {
    async write(batch) {
      await new Promise((r) => setImmediate(r));
      if (state.down) throw new Error('connection refused');
      committed.push([...batch]);
    },
  };
  return { writer, committed, state };
}

const options = { batchSize: 500, intervalMs: 20, maxBuffered: 5000, retryMs: 20 };
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition reached in time');
};

test('1,200 entries go out as full batches of 500 and one partial batch: 3 transactions', async () => {
  const { writer, committed } = recordingWriter();
  const buffer = new MemoryWriteBuffer(writer, options);
  buffer.append(Array.from({ length: 1200 }, (_, i) => i));
  await until(() => buffer.stats().buffered === 0);
  assert.deepEqual(committed.map((b) => b.length), [500, 500, 200]);
  assert.deepEqual(committed.flat(), Array.from({ length: 1200 }, (_, i) => i), 'in order, each once');
  assert.equal(buffer.stats().batches, 3);
});

test('a few entries are written within the interval, and stay visible as pending until then', async () => {
  const { writer, committed } = recordingWriter();
  const buffer = new MemoryWriteBuffer(writer, { ...options, intervalMs: 50 });
  buffer.append([1, 2, 3]);
  assert.deepEqual(buffer.pending(), [1, 2, 3]);
  await until(() => committed.length === 1);
  assert.deepEqual(committed[0], [1, 2, 3]);
  assert.deepEqual(buffer.pending(), []);
});

test('a database outage: appends are kept up to the bound, then refused with 503; after recovery all are written once', async () => {
  const { writer, committed, state } = recordingWriter();
  const errors: unknown[] = [];
  const buffer = new MemoryWriteBuffer(writer, { ...options, batchSize: 100, maxBuffered: 1000 }, (e) => errors.push(e));
  state.down = true;
  for (let i = 0; i < 10; i++) buffer.append(Array.from({ length: 100 }, (_, j) => i * 100 + j));
  assert.throws(() => buffer.append([1000]), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 503);
    assert.equal(error.code, 'history_backlog');
    assert.ok(error.retryAfterSeconds! >= 1);
    return true;
  });
  await until(() => errors.length >= 3);
  assert.equal(committed.length, 0);
  state.down = false;
  await until(() => buffer.stats().buffered === 0);
  assert.deepEqual(committed.flat(), Array.from({ length: 1000 }, (_, i) => i));
  buffer.append([1000]);
  await until(() => buffer.stats().written === 1001);
});

test('drain writes everything still buffered and refuses new entries', async () => {
  const { writer, committed } = recordingWriter();
  const buffer = new MemoryWriteBuffer(writer, { ...options, intervalMs: 60_000 });
  buffer.append(Array.from({ length: 1234 }, (_, i) => i));
  assert.equal(await buffer.drain(5000), true);
  assert.equal(committed.flat().length, 1234);
  assert.throws(() => buffer.append([1]), (e: GatewayError) => e.code === 'shutting_down');
});

test('with PGlite as the writer: 1,000 items in 2 transactions, replays write nothing twice', async () => {
  const db = await openDatabase({ dataDir: 'memory://' });
  try {
    await migrate(db);
    let transactions = 0;
    const writer: BatchWriter<ItemRow> = {
      write: (batch) => db.transaction(async (tx) => {
        transactions++;
        await insertItems(tx, [...batch]);
      }),
    };
    const buffer = new MemoryWriteBuffer(writer, options);
    const items: ItemRow[] = Array.from({ length: 1000 }, (_, i) => ({
      id: `msg_${i}`, conversationId: 'conv_w', seq: i, type: 'message', body: { n: i }, createdAt: i,
    }));
    buffer.append(items);
    buffer.append(items.slice(0, 10)); // a client retry of already-accepted items
    assert.equal(await buffer.drain(10_000), true);
    assert.equal(transactions, 3, '500 + 500 + the 10 replayed');
    const [count] = await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM conversation_items');
    assert.equal(count!.n, 1000);
  } finally {
    await db.close();
  }
});
