// Embedded history: whatever mix of committed and pending items a conversation has, a reader
// sees every turn once, in order, in both directions and across pages; and nobody else sees it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { embeddedHistory } from './conversation-history.js';

let db: Database;
before(async () => {
  db = await openDatabase({ dataDir: 'memory://' });
  await migrate(db);
});
after(async () => db.close());

const turn = (n: number) => ({ type: 'message', body: { role: n % 2 ? 'assistant' : 'user', content: [{ type: 'input_text', text: `turn ${n}` }] } });
const texts = (rows: Array<{ body: unknown }>) => rows.map((r) => (r.body as { content: Array<{ text: string }> }).content[0]!.text);

/** Every page of a conversation, following `after` cursors. */
async function readAll(h: ReturnType<typeof embeddedHistory>['history'], owner: string, id: string, order: 'asc' | 'desc', limit: number) {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await h.listItems(owner, id, { after: cursor, limit, order });
    assert.ok(page, 'visible');
    seen.push(...texts(page.data));
    if (!page.hasMore) return seen;
    cursor = page.data.at(-1)!.id;
  }
  assert.fail('too many pages');
}

test('items read back in order across the flush boundary, in pages, both directions', async () => {
  const { history, buffer } = embeddedHistory(db, { batchSize: 500, intervalMs: 60_000, maxBuffered: 10_000, retryMs: 50 });
  const { conversation } = history.createConversation('alice', { topic: 'rivers' }, [turn(1), turn(2)]);
  await history.appendItems('alice', conversation.id, [turn(3), turn(4), turn(5)]);
  await buffer.writeOnce(); // turns 1-5 are in the database now
  await history.appendItems('alice', conversation.id, [turn(6), turn(7)]); // these are still pending
  await Promise.all([history.appendItems('alice', conversation.id, [turn(8)]), history.appendItems('alice', conversation.id, [turn(9)])]);

  const all = Array.from({ length: 9 }, (_, i) => `turn ${i + 1}`);
  for (const limit of [1, 2, 3, 4, 5, 9, 20]) {
    assert.deepEqual(await readAll(history, 'alice', conversation.id, 'asc', limit), all, `asc, pages of ${limit}`);
    assert.deepEqual(await readAll(history, 'alice', conversation.id, 'desc', limit), [...all].reverse(), `desc, pages of ${limit}`);
  }
  assert.equal(await history.listItems('mallory', conversation.id, { limit: 10, order: 'asc' }), undefined, 'another owner sees nothing');
  assert.equal(await history.appendItems('mallory', conversation.id, [turn(99)]), undefined, 'and cannot append');
  assert.deepEqual((await history.listItems('alice', conversation.id, { after: 'msg_unknown', limit: 10, order: 'asc' }))!.data, []);

  assert.equal(await buffer.drain(5000), true);
  assert.deepEqual(await readAll(history, 'alice', conversation.id, 'asc', 4), all, 'the same once everything is committed');
  const seqs = await db.query<{ seq: number }>('SELECT seq FROM conversation_items WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
  assert.deepEqual(seqs.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'concurrent appends took distinct, consecutive seqs');
});

test('a conversation still pending is visible to its owner only, with its items', async () => {
  const { history, buffer } = embeddedHistory(db, { batchSize: 500, intervalMs: 60_000, maxBuffered: 10_000, retryMs: 50 });
  const { conversation } = history.createConversation('bob', {}, [turn(1)]);
  assert.equal((await history.getConversation('bob', conversation.id))?.id, conversation.id);
  assert.equal(await history.getConversation('alice', conversation.id), undefined);
  assert.deepEqual(texts((await history.listItems('bob', conversation.id, { limit: 10, order: 'asc' }))!.data), ['turn 1']);
  await buffer.drain(5000);
  assert.equal((await history.getConversation('bob', conversation.id))?.id, conversation.id, 'from the database now');
});
