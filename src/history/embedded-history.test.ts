// Embedded specifics: a database outage fills the memory buffer up to its bound, then sheds with
// 503 (usage records are dropped and counted, never thrown); the failures are logged without row
// contents; after recovery everything is written once. Drain empties the buffer; conversation
// states evicted from memory are rebuilt from the database without reusing a seq.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { GatewayError } from '../core/errors.js';
import { migrate } from '../storage/migrate.js';
import { testDatabase, type TestDatabase } from '../../test/support/databases.js';
import { eventually, silentLogger } from '../../test/support/history-backends.js';
import { outageDatabase } from '../../test/support/history-outage.js';
import { openEmbeddedHistory } from './embedded-history.js';
import type { NewItem, UsageRow } from './history.js';

let t: TestDatabase;
before(async () => {
  t = await testDatabase('postgres');
  await migrate(t.db);
});
after(async () => t.drop());

const SECRET = 'the-secret-words-of-turn';
const turn = (n: number): NewItem => ({ type: 'message', body: { text: `${SECRET} ${n}` } });
const usage = (id: string): UsageRow => ({
  id, identity: 'key_embedded', model: 'sim-chat', deployment: null, promptTokens: 1, completionTokens: 1, latencyMs: 1, status: 200, costUsd: null, createdAt: 1,
});
const flush = { batchSize: 10, intervalMs: 20, maxBuffered: 30, retryMs: 50 };

test('database down: writes buffered up to the bound, then 503; usage dropped and counted; failures logged without contents; all written once after recovery', async () => {
  const outage = await outageDatabase(t.db);
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const h = openEmbeddedHistory({ db: outage.db, flush, logger });
  try {
    outage.down();
    const ids: string[] = [];
    let refusal: unknown;
    while (!refusal) {
      try {
        const { conversation } = await h.createConversation('alice', {}, [turn(1)]);
        ids.push(conversation.id);
        await h.appendItems('alice', conversation.id, [turn(2)]);
      } catch (error) {
        refusal = error;
      }
    }
    assert.ok(refusal instanceof GatewayError);
    assert.equal(refusal.code, 'history_backlog');
    assert.equal(refusal.status, 503);
    assert.ok(refusal.retryAfterSeconds! >= 1);
    assert.ok(h.stats().pending <= 30);

    assert.doesNotThrow(() => h.recordUsage(usage('u_dropped')));
    await eventually('the refused usage record is counted', () => h.stats().droppedUsage === 1);
    assert.equal((await h.getConversation('alice', ids[0]!))?.id, ids[0], 'pending reads need no database');

    await eventually('a failed write was logged', () => lines.length > 0);
    const logged = JSON.parse(lines[0]!) as { level: number; err: { code?: string; message?: string } };
    assert.equal(logged.level, 40, 'warn');
    assert.equal(logged.err.code, 'ECONNREFUSED');
    assert.ok(!lines.join('\n').includes(SECRET), 'no row contents in the logs');

    outage.up();
    await eventually('everything written after recovery', () => h.stats().pending === 0);
    const [items] = await t.db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM conversation_items WHERE conversation_id = ANY($1::text[])', [ids]);
    const complete = h.stats().written - ids.length; // items = entries written minus conversation rows
    assert.equal(items!.n, complete);
    const [twice] = await t.db.query<{ n: number }>(
      'SELECT count(*)::int8 AS n FROM (SELECT 1 FROM conversation_items WHERE conversation_id = ANY($1::text[]) GROUP BY conversation_id, seq HAVING count(*) > 1) AS d', [ids],
    );
    assert.equal(twice!.n, 0);
  } finally {
    outage.up();
    await h.close();
    await outage.close();
  }
});

test('drain writes everything buffered, then refuses writes with shutting_down', async () => {
  const h = openEmbeddedHistory({ db: t.db, flush: { ...flush, intervalMs: 60_000, maxBuffered: 10_000 }, logger: silentLogger });
  const { conversation } = await h.createConversation('bob', {}, Array.from({ length: 95 }, (_, n) => turn(n)));
  assert.equal(h.stats().pending, 96);
  assert.equal(await h.drain(10_000), true);
  assert.equal(h.stats().pending, 0);
  assert.equal((await h.listItems('bob', conversation.id, { limit: 100, order: 'asc' }))!.data.length, 95);
  await assert.rejects(h.appendItems('bob', conversation.id, [turn(96)]), (e: GatewayError) => e.code === 'shutting_down');
  await h.close();
});

test('conversation states evicted from memory are rebuilt from the database: no seq reused, no deleted conversation revived', async () => {
  const outage = await outageDatabase(t.db);
  const h = openEmbeddedHistory({ db: outage.db, flush: { ...flush, intervalMs: 60_000, maxBuffered: 10_000, stateCapacity: 2 }, logger: silentLogger });
  try {
    const conversations: string[] = [];
    for (let i = 0; i < 5; i++) conversations.push((await h.createConversation('carol', {}, [turn(1), turn(2)])).conversation.id);
    // Still pending: their states stay, whatever the capacity.
    for (const id of conversations) assert.equal((await h.appendItems('carol', id, [turn(3)]))![0]!.seq, 3);
    await h.flushNow!();
    const last = (await h.listItems('carol', conversations[0]!, { limit: 1, order: 'desc' }))!.data[0]!;
    assert.equal(await h.deleteItem('carol', conversations[0]!, last.id), true);
    assert.equal(await h.deleteConversation('carol', conversations[1]!), true);
    // Use the last two; a new state (a new conversation) then evicts the least recently used idle ones.
    for (const id of conversations.slice(3)) await h.appendItems('carol', id, [turn(4)]);
    await h.flushNow!();
    await h.createConversation('carol', {}, []);

    outage.down();
    assert.equal((await h.appendItems('carol', conversations[4]!, [turn(5)]))![0]!.seq, 5, 'a kept state needs no database');
    await assert.rejects(h.appendItems('carol', conversations[0]!, [turn(4)]), (e: GatewayError) => e.code === 'history_unavailable', 'an evicted one does');
    outage.up();
    assert.equal((await h.appendItems('carol', conversations[0]!, [turn(4)]))![0]!.seq, 4, 'the deleted item\'s seq 3 stays used');
    assert.equal(await h.appendItems('carol', conversations[1]!, [turn(4)]), undefined, 'still deleted');
    assert.equal((await h.appendItems('carol', conversations[2]!, [turn(4)]))![0]!.seq, 4);
  } finally {
    outage.up();
    await h.close();
    await outage.close();
  }
});
