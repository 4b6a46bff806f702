// The conversation store's conformance suite: every test on PGlite and on a real PostgreSQL.
// Tests share one database per engine, so each uses ids and owners of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachEngine } from '../../test/support/databases.js';
import {
  deleteConversation, deleteItem, getConversation, getItem, insertConversations, insertItems, listConversations,
  listItems, maxSeq, updateMetadata, type ConversationRow, type ItemRow, type Order, type Page,
} from './conversation-store.js';

const conversation = (id: string, owner: string, createdAt: number, metadata: Record<string, string> = {}): ConversationRow =>
  ({ id, owner, metadata, createdAt, updatedAt: createdAt });

const item = (conversationId: string, seq: number, createdAt = 1_000 + seq): ItemRow => ({
  id: `${conversationId}_msg_${String(seq).padStart(5, '0')}`,
  conversationId,
  seq,
  type: 'message',
  body: { role: 'user', content: [{ type: 'input_text', text: `turn ${seq}` }] },
  createdAt,
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Follows `after` cursors to the end; returns each page's size and hasMore, and every id in order. */
async function walk<T extends { id: string }>(page: (after: string | undefined) => Promise<Page<T> | undefined>) {
  const sizes: number[] = [];
  const hasMore: boolean[] = [];
  const ids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const current = await page(after);
    assert.ok(current, 'page is visible');
    sizes.push(current.data.length);
    hasMore.push(current.hasMore);
    ids.push(...current.data.map((row) => row.id));
    if (!current.hasMore) return { sizes, hasMore, ids };
    after = current.data.at(-1)!.id;
  }
}

eachEngine('conversation store', (s) => {

  test('a conversation is its owner\'s alone: another owner reads, lists, updates, deletes and replays nothing', async () => {
    const original = conversation('conv_iso', 'alice', 5_000, { topic: 'rivers' });
    assert.equal(await insertConversations(s.db, [original]), 1);
    assert.deepEqual(await getConversation(s.db, 'alice', 'conv_iso'), original);

    assert.equal(await getConversation(s.db, 'mallory', 'conv_iso'), undefined);
    assert.deepEqual(await listConversations(s.db, 'mallory', { limit: 10, order: 'desc' }), { data: [], hasMore: false });
    assert.deepEqual(await listConversations(s.db, 'mallory', { after: 'conv_iso', limit: 10, order: 'desc' }), { data: [], hasMore: false });
    assert.equal(await updateMetadata(s.db, 'mallory', 'conv_iso', { topic: 'mine' }, 9_000), undefined);
    assert.equal(await deleteConversation(s.db, 'mallory', 'conv_iso', 9_000), false);
    assert.equal(await insertConversations(s.db, [conversation('conv_iso', 'mallory', 9_000)]), 0, 'a replayed id never changes hands');

    assert.deepEqual(await getConversation(s.db, 'alice', 'conv_iso'), original);
  });

  test('items are seen only through their owner\'s conversation: another owner or conversation finds nothing', async () => {
    await insertConversations(s.db, [conversation('conv_iso_items', 'alice', 1), conversation('conv_iso_other', 'alice', 1)]);
    await insertItems(s.db, range(1, 3).map((seq) => item('conv_iso_items', seq)));
    const first = item('conv_iso_items', 1);

    assert.equal(await listItems(s.db, 'mallory', 'conv_iso_items', { limit: 10, order: 'asc' }), undefined);
    assert.equal(await getItem(s.db, 'mallory', 'conv_iso_items', first.id), undefined);
    assert.equal(await deleteItem(s.db, 'mallory', 'conv_iso_items', first.id, 9_000), false);
    assert.equal(await getItem(s.db, 'alice', 'conv_iso_other', first.id), undefined, 'the wrong conversation');
    assert.equal(await deleteItem(s.db, 'alice', 'conv_iso_other', first.id, 9_000), false, 'the wrong conversation');
    assert.equal(await listItems(s.db, 'alice', 'conv_missing', { limit: 10, order: 'asc' }), undefined);

    assert.deepEqual(await getItem(s.db, 'alice', 'conv_iso_items', first.id), first);
    const page = await listItems(s.db, 'alice', 'conv_iso_items', { limit: 10, order: 'asc' });
    assert.deepEqual(page, { data: range(1, 3).map((seq) => item('conv_iso_items', seq)), hasMore: false });
    assert.deepEqual(await listItems(s.db, 'alice', 'conv_iso_other', { limit: 10, order: 'asc' }), { data: [], hasMore: false });
  });

  test('listConversations pages newest first and oldest first; ties on created_at fall to id', async () => {
    // Pairs share a created_at, so the cursor must compare (created_at, id), not created_at alone.
    const rows = range(0, 24).map((n) => conversation(`conv_page_${String(n).padStart(2, '0')}`, 'pager', 10_000 + Math.floor(n / 2)));
    await insertConversations(s.db, [...rows].reverse());
    await insertConversations(s.db, [conversation('conv_page_other', 'not-pager', 10_005)]);
    const oldestFirst = rows.map((row) => row.id);
    for (const [order, expected] of [['desc', [...oldestFirst].reverse()], ['asc', oldestFirst]] as const) {
      const walked = await walk((after) => listConversations(s.db, 'pager', { after, limit: 10, order }));
      assert.deepEqual(walked.sizes, [10, 10, 5], order);
      assert.deepEqual(walked.hasMore, [true, true, false], order);
      assert.deepEqual(walked.ids, expected, order);
    }
    assert.equal((await listConversations(s.db, 'pager', { limit: 25, order: 'desc' })).hasMore, false, 'exactly full');
    assert.equal((await listConversations(s.db, 'pager', { limit: 24, order: 'desc' })).hasMore, true);
  });

  test('listItems pages in seq order both ways: 25 items in pages of 10', async () => {
    await insertConversations(s.db, [conversation('conv_items_page', 'pager', 1)]);
    await insertItems(s.db, range(1, 25).map((seq) => item('conv_items_page', seq)).reverse());
    const inSeqOrder = range(1, 25).map((seq) => item('conv_items_page', seq).id);
    for (const [order, expected] of [['asc', inSeqOrder], ['desc', [...inSeqOrder].reverse()]] as const) {
      const walked = await walk((after) => listItems(s.db, 'pager', 'conv_items_page', { after, limit: 10, order }));
      assert.deepEqual(walked.sizes, [10, 10, 5], order);
      assert.deepEqual(walked.hasMore, [true, true, false], order);
      assert.deepEqual(walked.ids, expected, order);
    }
  });

  test('a cursor the caller cannot see gives an empty page; a deleted cursor still continues the list', async () => {
    await insertConversations(s.db, [conversation('conv_cursor', 'cursor', 1), conversation('conv_cursor_b', 'cursor', 2)]);
    await insertItems(s.db, [...range(1, 6).map((seq) => item('conv_cursor', seq)), item('conv_cursor_b', 1)]);
    const list = (after: string, order: Order = 'asc') => listItems(s.db, 'cursor', 'conv_cursor', { after, limit: 3, order });
    assert.deepEqual(await list('msg_unknown'), { data: [], hasMore: false });
    assert.deepEqual(await list(item('conv_cursor_b', 1).id), { data: [], hasMore: false }, 'an item of another conversation');

    assert.equal(await deleteItem(s.db, 'cursor', 'conv_cursor', item('conv_cursor', 3).id, 50), true);
    const next = await list(item('conv_cursor', 3).id);
    assert.deepEqual(next?.data.map((row) => row.seq), [4, 5, 6]);
    assert.equal(next?.hasMore, false);
    assert.deepEqual((await list(item('conv_cursor', 4).id, 'desc'))?.data.map((row) => row.seq), [2, 1]);

    assert.equal(await deleteConversation(s.db, 'cursor', 'conv_cursor_b', 50), true);
    const conversations = await listConversations(s.db, 'cursor', { after: 'conv_cursor_b', limit: 10, order: 'desc' });
    assert.deepEqual(conversations.data.map((row) => row.id), ['conv_cursor']);
  });

  test('replaying an overlapping batch writes nothing twice', async () => {
    await insertConversations(s.db, [conversation('conv_replay', 'replay', 1)]);
    assert.equal(await insertConversations(s.db, [conversation('conv_replay', 'replay', 1)]), 0);
    assert.equal(await insertItems(s.db, range(1, 3).map((seq) => item('conv_replay', seq))), 3);
    // A flusher that crashed before its ack replays part of a batch, and a batch may repeat a row.
    const replay = [...range(2, 5), 5].map((seq) => item('conv_replay', seq));
    assert.equal(await insertItems(s.db, replay), 2);
    const page = await listItems(s.db, 'replay', 'conv_replay', { limit: 100, order: 'asc' });
    assert.deepEqual(page?.data.map((row) => row.seq), [1, 2, 3, 4, 5]);
    const [stored] = await s.db.query<{ n: number }>('SELECT count(*) AS n FROM conversation_items WHERE conversation_id = $1', ['conv_replay']);
    assert.equal(stored!.n, 5);
    assert.equal(await insertItems(s.db, []), 0, 'an empty batch sends nothing');
  });

  test('a batch past the 65,535-parameter limit of one statement goes in whole (12,000 items)', async () => {
    await insertConversations(s.db, [conversation('conv_big', 'big', 1)]);
    const rows = range(1, 12_000).map((seq) => item('conv_big', seq));
    assert.equal(await insertItems(s.db, rows), 12_000);
    assert.equal(await insertItems(s.db, rows), 0, 'and replays as a whole');
    assert.equal(await maxSeq(s.db, 'conv_big'), 12_000);
    const newest = await listItems(s.db, 'big', 'conv_big', { limit: 2, order: 'desc' });
    assert.deepEqual(newest?.data.map((row) => row.seq), [12_000, 11_999]);
    assert.equal((await getConversation(s.db, 'big', 'conv_big'))?.updatedAt, item('conv_big', 12_000).createdAt);
  });

  test('a soft-deleted conversation disappears from every read, and so do its items', async () => {
    await insertConversations(s.db, [conversation('conv_gone', 'deleter', 1), conversation('conv_kept', 'deleter', 2)]);
    await insertItems(s.db, range(1, 3).map((seq) => item('conv_gone', seq)));
    assert.equal(await deleteConversation(s.db, 'deleter', 'conv_gone', 100), true);
    assert.equal(await deleteConversation(s.db, 'deleter', 'conv_gone', 101), false, 'already gone');

    assert.equal(await getConversation(s.db, 'deleter', 'conv_gone'), undefined);
    assert.deepEqual((await listConversations(s.db, 'deleter', { limit: 10, order: 'desc' })).data.map((row) => row.id), ['conv_kept']);
    assert.equal(await updateMetadata(s.db, 'deleter', 'conv_gone', { a: 'b' }, 102), undefined);
    assert.equal(await listItems(s.db, 'deleter', 'conv_gone', { limit: 10, order: 'asc' }), undefined);
    assert.equal(await getItem(s.db, 'deleter', 'conv_gone', item('conv_gone', 1).id), undefined);
    assert.equal(await deleteItem(s.db, 'deleter', 'conv_gone', item('conv_gone', 1).id, 102), false);
  });

  test('a soft-deleted item disappears from reads, but its seq still counts for maxSeq', async () => {
    await insertConversations(s.db, [conversation('conv_item_gone', 'deleter', 1)]);
    assert.equal(await maxSeq(s.db, 'conv_item_gone'), undefined);
    await insertItems(s.db, range(1, 3).map((seq) => item('conv_item_gone', seq)));
    const last = item('conv_item_gone', 3);
    assert.equal(await deleteItem(s.db, 'deleter', 'conv_item_gone', last.id, 100), true);
    assert.equal(await deleteItem(s.db, 'deleter', 'conv_item_gone', last.id, 101), false, 'already gone');
    assert.equal(await getItem(s.db, 'deleter', 'conv_item_gone', last.id), undefined);
    const page = await listItems(s.db, 'deleter', 'conv_item_gone', { limit: 10, order: 'asc' });
    assert.deepEqual(page?.data.map((row) => row.seq), [1, 2]);
    assert.equal(await maxSeq(s.db, 'conv_item_gone'), 3, 'a seq is never handed out twice');
  });

  test('insertItems moves updated_at up to the newest item, never back; items may come before their conversation', async () => {
    await insertItems(s.db, [item('conv_touch', 1, 2_000)]);
    await insertConversations(s.db, [conversation('conv_touch', 'toucher', 1_000)]);
    assert.equal((await getConversation(s.db, 'toucher', 'conv_touch'))?.updatedAt, 1_000);
    await insertItems(s.db, [item('conv_touch', 3, 3_500), item('conv_touch', 2, 3_000)]);
    assert.equal((await getConversation(s.db, 'toucher', 'conv_touch'))?.updatedAt, 3_500);
    await insertItems(s.db, [item('conv_touch', 1, 2_000)]);
    assert.equal((await getConversation(s.db, 'toucher', 'conv_touch'))?.updatedAt, 3_500, 'an old replay does not move it back');
  });

  test('updateMetadata replaces the metadata and moves updated_at forward only', async () => {
    await insertConversations(s.db, [conversation('conv_meta', 'editor', 1_000, { a: '1', b: '2' })]);
    const updated = await updateMetadata(s.db, 'editor', 'conv_meta', { c: '3' }, 2_000);
    assert.deepEqual(updated, { ...conversation('conv_meta', 'editor', 1_000, { c: '3' }), updatedAt: 2_000 });
    const skewed = await updateMetadata(s.db, 'editor', 'conv_meta', {}, 1_500);
    assert.deepEqual(skewed, { ...conversation('conv_meta', 'editor', 1_000), updatedAt: 2_000 });
  });

  test('a 1,000-item conversation lists whole, in one page or in pages', async () => {
    await insertConversations(s.db, [conversation('conv_long', 'long', 1)]);
    await insertItems(s.db, range(1, 1_000).map((seq) => item('conv_long', seq)));
    const whole = await listItems(s.db, 'long', 'conv_long', { limit: 1_000, order: 'asc' });
    assert.deepEqual(whole?.data.map((row) => row.seq), range(1, 1_000));
    assert.equal(whole?.hasMore, false);
    const walked = await walk((after) => listItems(s.db, 'long', 'conv_long', { after, limit: 100, order: 'desc' }));
    assert.deepEqual(walked.ids, range(1, 1_000).reverse().map((seq) => item('conv_long', seq).id));
  });

  test('two items given the same seq by two writers are both kept, ordered by id (see migration 001)', async () => {
    await insertConversations(s.db, [conversation('conv_same_seq', 'writer', 1)]);
    const a = { ...item('conv_same_seq', 1), id: 'msg_from_a' };
    const b = { ...item('conv_same_seq', 1), id: 'msg_from_b' };
    assert.equal(await insertItems(s.db, [a]), 1);
    assert.equal(await insertItems(s.db, [b, item('conv_same_seq', 2)]), 2);
    const page = await listItems(s.db, 'writer', 'conv_same_seq', { limit: 1, order: 'asc' });
    assert.deepEqual(page?.data.map((row) => row.id), ['msg_from_a']);
    const next = await listItems(s.db, 'writer', 'conv_same_seq', { after: 'msg_from_a', limit: 10, order: 'asc' });
    assert.deepEqual(next?.data.map((row) => row.id), ['msg_from_b', item('conv_same_seq', 2).id]);
  });

  test('text that jsonb refuses (NUL, unpaired surrogates) is stored as U+FFFD instead of failing the batch', async () => {
    await insertConversations(s.db, [conversation('conv_nul', 'nul', 1, { 'k\u0000': 'v\ud800' })]);
    const odd = { ...item('conv_nul', 1), body: { text: 'a\u0000b \udc00 \ud83d\ude00 \\u0000 \\\u0000' } };
    assert.equal(await insertItems(s.db, [odd, item('conv_nul', 2)]), 2);
    const [stored] = (await listItems(s.db, 'nul', 'conv_nul', { limit: 1, order: 'asc' }))!.data;
    assert.deepEqual(stored?.body, { text: 'a\ufffdb \ufffd \ud83d\ude00 \\u0000 \\\ufffd' });
    assert.deepEqual((await getConversation(s.db, 'nul', 'conv_nul'))?.metadata, { 'k\ufffd': 'v\ufffd' });
  });

  test('limit and order are checked before any SQL is built', async () => {
    await assert.rejects(listConversations(s.db, 'x', { limit: 0, order: 'desc' }), RangeError);
    await assert.rejects(listItems(s.db, 'x', 'c', { limit: 1.5, order: 'asc' }), RangeError);
    await assert.rejects(listItems(s.db, 'x', 'c', { limit: 1, order: 'sideways' as Order }), RangeError);
  });

  if (s.engine === 'postgres') {
    test('four flushers writing overlapping conversations at once neither deadlock nor fail', async () => {
      // Four transactions on their own connections, each batch in its own shuffled order. When
      // they write different items of shared conversations, only updated_at's row locks are
      // shared; when they replay the same items, the items' keys are too. Locks taken in
      // different orders make PostgreSQL abort one transaction as a deadlock. (A second unique key
      // would add a race this cannot force: two replays of one item both passing the id check,
      // then one failing on the other key. The schema has none, for that reason.)
      const flushers = await Promise.all(range(1, 4).map(() => s.test.another!()));
      const ids = range(0, 7).map((n) => `conv_race_${n}`);
      await insertConversations(s.db, ids.map((id) => conversation(id, 'racer', 1)));
      const flushAll = async (batches: ItemRow[][]) => {
        const results = await Promise.allSettled(flushers.map((flusher, w) => flusher.transaction(async (tx) => {
          const inserted = await insertItems(tx, batches[w]!);
          await tx.query('SELECT pg_sleep(0.01)'); // hold the locks a moment, as a longer flush would
          return inserted;
        })));
        const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
        assert.deepEqual(failed, []);
        return results.reduce((sum, r) => sum + (r.status === 'fulfilled' ? r.value : 0), 0);
      };
      for (const round of range(1, 5)) {
        const conversationsOf = (w: number) => range(0, 3).map((k) => ids[(2 * w + k) % 8]!);
        const turns = (w: number, first: number) => conversationsOf(w).flatMap((id) =>
          range(first, first + 39).map((seq) => item(id, seq, round * 100_000 + seq)));
        const distinct = flushers.map((_, w) => shuffle(turns(w, round * 1_000 + w * 100), round * 10 + w));
        assert.equal(await flushAll(distinct), 4 * 4 * 40, `round ${round}, distinct items`);
        const replayed = flushers.map((_, w) => shuffle(turns(w, round * 1_000 + 500), round * 10 + w + 5));
        assert.equal(await flushAll(replayed), 8 * 40, `round ${round}, replayed items: each written once`);
      }
      for (const id of ids) {
        const newest = await s.db.query<{ at: number }>('SELECT max(created_at) AS at FROM conversation_items WHERE conversation_id = $1', [id]);
        assert.equal((await getConversation(s.db, 'racer', id))?.updatedAt, newest[0]!.at, id);
      }
    });
  }
});

/** A deterministic shuffle (a linear congruential generator), so every run races the same orders. */
function shuffle<T>(rows: readonly T[], seed: number): T[] {
  const out = [...rows];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
