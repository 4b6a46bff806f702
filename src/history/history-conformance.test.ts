// The History contract, the same tests on every backend: embedded over PGlite, embedded over
// PostgreSQL, and scale-out over Redis + PostgreSQL. Whatever mix of pending and committed rows
// there is, a reader sees everything it was told succeeded, once, in order, across pages; another
// owner sees nothing and changes nothing; a change to a pending row survives the flush.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachHistory, eventually, type HistorySuite } from '../../test/support/history-backends.js';
import { itemTexts, response, texts, turn, turns, unique, walk } from '../../test/support/history-fixtures.js';

eachHistory('history', (s: HistorySuite) => {

  test('a conversation created with its items reads back whole, pending and once flushed', async () => {
    const h = s.history;
    const alice = unique('alice');
    const given = unique('msg_given');
    const { conversation, items } = await h.createConversation(alice, { topic: 'rivers' }, [turn(1), turn(2), turn(3, given)]);
    assert.match(conversation.id, /^conv_/);
    assert.deepEqual(items.map((i) => i.seq), [1, 2, 3]);
    assert.equal(items[2]!.id, given, 'a given id is kept');
    assert.ok(items.every((i) => i.conversationId === conversation.id && i.createdAt === conversation.createdAt));
    for (const when of ['pending', 'flushed']) {
      assert.deepEqual(await h.getConversation(alice, conversation.id), conversation, when);
      assert.deepEqual(await h.listItems(alice, conversation.id, { limit: 10, order: 'asc' }), { data: items, hasMore: false }, when);
      assert.deepEqual(await h.getItem(alice, conversation.id, given), items[2], when);
      await s.flush();
    }
    const empty = await h.createConversation(alice, {}, []);
    assert.deepEqual(await h.listItems(alice, empty.conversation.id, { limit: 10, order: 'asc' }), { data: [], hasMore: false });
    assert.deepEqual(await h.appendItems(alice, empty.conversation.id, []), []);
  });

  test('items read back in order across the pending/committed boundary, in pages, both directions', async () => {
    const h = s.history;
    const alice = unique('alice');
    const { conversation } = await h.createConversation(alice, {}, [turn(1), turn(2)]);
    await h.appendItems(alice, conversation.id, [turn(3), turn(4), turn(5)]);
    await s.flush(); // turns 1-5 are in the database now
    await h.appendItems(alice, conversation.id, [turn(6), turn(7)]);
    await h.appendItems(alice, conversation.id, [turn(8)]);
    await h.appendItems(alice, conversation.id, [turn(9)]);

    const all = turns(1, 2, 3, 4, 5, 6, 7, 8, 9);
    for (const limit of [1, 2, 3, 4, 5, 9, 20]) {
      assert.deepEqual(await itemTexts(h, alice, conversation.id, 'asc', limit), all, `asc, pages of ${limit}`);
      assert.deepEqual(await itemTexts(h, alice, conversation.id, 'desc', limit), [...all].reverse(), `desc, pages of ${limit}`);
    }
    // A cursor taken on a pending item, then a flush before the next page: nothing lost or repeated.
    await h.appendItems(alice, conversation.id, [turn(10), turn(11), turn(12)]);
    const more = turns(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    assert.deepEqual(await itemTexts(h, alice, conversation.id, 'desc', 2, () => s.flush()), [...more].reverse());
    await h.appendItems(alice, conversation.id, [turn(13)]);
    assert.deepEqual(await itemTexts(h, alice, conversation.id, 'asc', 5, () => s.flush()), [...more, 'turn 13']);

    await s.flush();
    assert.deepEqual(await itemTexts(h, alice, conversation.id, 'asc', 4), [...more, 'turn 13'], 'the same once everything is committed');
    const seqs = await s.db.query<{ seq: number }>('SELECT seq FROM conversation_items WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
    assert.deepEqual(seqs.map((r) => r.seq), Array.from({ length: 13 }, (_, i) => i + 1));
  });

  test('concurrent appends to one conversation take distinct, consecutive seqs', async () => {
    const h = s.history;
    const alice = unique('alice');
    const { conversation } = await h.createConversation(alice, {}, [turn(0)]);
    await s.flush();
    const added = await Promise.all(Array.from({ length: 20 }, (_, n) => h.appendItems(alice, conversation.id, n % 2 ? [turn(n)] : [turn(n), turn(n)])));
    const seqs = added.flatMap((rows) => rows!.map((row) => row.seq)).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: 30 }, (_, i) => i + 2));
    await s.flush();
    const stored = await s.db.query<{ seq: number }>('SELECT seq FROM conversation_items WHERE conversation_id = $1 ORDER BY seq', [conversation.id]);
    assert.deepEqual(stored.map((r) => r.seq), Array.from({ length: 31 }, (_, i) => i + 1));
  });

  test('an unknown cursor is an empty page; an unknown conversation is undefined', async () => {
    const h = s.history;
    const alice = unique('alice');
    const { conversation } = await h.createConversation(alice, {}, [turn(1)]);
    assert.deepEqual(await h.listItems(alice, conversation.id, { after: 'msg_unknown', limit: 10, order: 'asc' }), { data: [], hasMore: false });
    assert.deepEqual(await h.listConversations(alice, { after: 'conv_unknown', limit: 10, order: 'desc' }), { data: [], hasMore: false });
    assert.equal(await h.listItems(alice, 'conv_unknown', { limit: 10, order: 'asc' }), undefined);
    assert.equal(await h.appendItems(alice, 'conv_unknown', [turn(1)]), undefined);
    assert.equal(await h.getConversation(alice, 'conv_unknown'), undefined);
  });

  test('get and delete an item, pending or committed; a deleted item stays deleted through the flush', async () => {
    const h = s.history;
    const alice = unique('alice');
    const { conversation, items: [first] } = await h.createConversation(alice, {}, [turn(1), turn(2)]);
    await s.flush();
    const [third, fourth] = (await h.appendItems(alice, conversation.id, [turn(3), turn(4)]))!;
    assert.deepEqual(await h.getItem(alice, conversation.id, third!.id), third);

    assert.equal(await h.deleteItem(alice, conversation.id, third!.id), true, 'a pending item');
    assert.equal(await h.getItem(alice, conversation.id, third!.id), undefined);
    assert.equal(await h.deleteItem(alice, conversation.id, third!.id), false, 'once');
    assert.equal(await h.deleteItem(alice, conversation.id, first!.id), true, 'a committed item');
    assert.deepEqual(await itemTexts(h, alice, conversation.id, 'asc', 10), turns(2, 4));
    assert.deepEqual(texts((await h.listItems(alice, conversation.id, { after: third!.id, limit: 10, order: 'asc' }))!.data), turns(4), 'a deleted item is still a cursor');

    await s.flush();
    assert.deepEqual(await itemTexts(h, alice, conversation.id, 'asc', 10), turns(2, 4), 'the flush did not bring it back');
    assert.equal(await h.getItem(alice, conversation.id, third!.id), undefined);
    assert.deepEqual(await h.getItem(alice, conversation.id, fourth!.id), fourth);
    const [fifth] = (await h.appendItems(alice, conversation.id, [turn(5)]))!;
    assert.equal(fifth!.seq, 5, 'a deleted item\'s seq is never reused');

    // Both the conversation and the item still pending.
    const fresh = await h.createConversation(alice, {}, [turn(1), turn(2)]);
    assert.equal(await h.deleteItem(alice, fresh.conversation.id, fresh.items[0]!.id), true);
    assert.deepEqual(await itemTexts(h, alice, fresh.conversation.id, 'asc', 10), turns(2));
    await s.flush();
    assert.deepEqual(await itemTexts(h, alice, fresh.conversation.id, 'asc', 10), turns(2));
  });

  test('update and delete a conversation while it is pending and once it is flushed', async () => {
    const h = s.history;
    const alice = unique('alice');
    const pending = await h.createConversation(alice, { v: '1' }, [turn(1)]);
    const updated = await h.updateConversation(alice, pending.conversation.id, { v: '2' });
    assert.deepEqual(updated?.metadata, { v: '2' });
    assert.deepEqual((await h.getConversation(alice, pending.conversation.id))?.metadata, { v: '2' });
    await s.flush();
    assert.deepEqual((await h.getConversation(alice, pending.conversation.id))?.metadata, { v: '2' }, 'the flush did not undo it');
    assert.deepEqual((await h.updateConversation(alice, pending.conversation.id, { v: '3' }))?.metadata, { v: '3' }, 'committed');
    assert.deepEqual(await itemTexts(h, alice, pending.conversation.id, 'asc', 10), turns(1));
    const [second] = (await h.appendItems(alice, pending.conversation.id, [turn(2)]))!;
    assert.equal(second!.seq, 2);

    const doomed = await h.createConversation(alice, {}, [turn(1)]);
    await h.appendItems(alice, doomed.conversation.id, [turn(2)]);
    assert.equal(await h.deleteConversation(alice, doomed.conversation.id), true, 'pending');
    assert.equal(await h.deleteConversation(alice, doomed.conversation.id), false, 'once');
    for (const when of ['pending', 'flushed']) {
      assert.equal(await h.getConversation(alice, doomed.conversation.id), undefined, when);
      assert.equal(await h.listItems(alice, doomed.conversation.id, { limit: 10, order: 'asc' }), undefined, when);
      assert.equal(await h.getItem(alice, doomed.conversation.id, doomed.items[0]!.id), undefined, when);
      assert.equal(await h.appendItems(alice, doomed.conversation.id, [turn(3)]), undefined, when);
      assert.equal(await h.updateConversation(alice, doomed.conversation.id, { v: 'x' }), undefined, when);
      assert.ok(!(await h.listConversations(alice, { limit: 100, order: 'desc' })).data.some((c) => c.id === doomed.conversation.id), when);
      await s.flush();
    }

    const committed = await h.createConversation(alice, {}, [turn(1)]);
    await s.flush();
    assert.equal(await h.appendItems(alice, committed.conversation.id, [turn(2)]).then((rows) => rows?.length), 1);
    assert.equal(await h.deleteConversation(alice, committed.conversation.id), true, 'committed');
    assert.equal(await h.getConversation(alice, committed.conversation.id), undefined);
    assert.equal(await h.appendItems(alice, committed.conversation.id, [turn(3)]), undefined, 'no appends to a deleted conversation');
    assert.equal(await h.listItems(alice, committed.conversation.id, { limit: 10, order: 'asc' }), undefined);
  });

  test('conversations list newest first (and oldest first) across pages, pending and committed mixed', async () => {
    const h = s.history;
    const owner = unique('pager');
    const created: Array<{ id: string; createdAt: number }> = [];
    const create = async (n: number) => {
      for (let i = 0; i < n; i++) created.push((await h.createConversation(owner, { n: String(created.length) }, [])).conversation);
    };
    const expected = () => [...created].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((c) => c.id);
    const ids = async (order: 'asc' | 'desc', limit: number, between?: () => Promise<void>) =>
      (await walk((after) => h.listConversations(owner, { after, limit, order }), between)).map((c) => c.id);

    await create(4);
    await s.flush();
    await create(4); // pending: the newest four
    for (const limit of [1, 2, 3, 5, 8, 20]) {
      assert.deepEqual(await ids('desc', limit), expected(), `desc, pages of ${limit}`);
      assert.deepEqual(await ids('asc', limit), [...expected()].reverse(), `asc, pages of ${limit}`);
    }
    const firstPage = await h.listConversations(owner, { limit: 8, order: 'desc' });
    assert.equal(firstPage.hasMore, false, 'exactly full');
    assert.equal((await h.listConversations(owner, { limit: 7, order: 'desc' })).hasMore, true);
    assert.deepEqual(await ids('desc', 3, () => s.flush()), expected(), 'a flush between pages');
    await create(3);
    assert.deepEqual(await ids('asc', 2, () => s.flush()), [...expected()].reverse());
    assert.deepEqual(await ids('desc', 4), expected(), 'all committed');
    assert.deepEqual(await h.listConversations(unique('nobody'), { limit: 10, order: 'desc' }), { data: [], hasMore: false });
  });

  test('stored responses: save, get, delete, pending or committed', async () => {
    const h = s.history;
    const alice = unique('alice');
    const pending = response(alice);
    await h.saveResponse(pending);
    assert.deepEqual(await h.getResponse(alice, pending.id), pending);
    assert.equal(await h.deleteResponse(alice, pending.id), true, 'pending');
    assert.equal(await h.getResponse(alice, pending.id), undefined);
    assert.equal(await h.deleteResponse(alice, pending.id), false, 'once');
    await s.flush();
    assert.equal(await h.getResponse(alice, pending.id), undefined, 'the flush did not bring it back');

    const committed = response(alice, { conversationId: 'conv_x', previousResponseId: pending.id });
    await h.saveResponse(committed);
    await s.flush();
    assert.deepEqual(await h.getResponse(alice, committed.id), committed);
    assert.equal(await h.deleteResponse(alice, committed.id), true, 'committed');
    assert.equal(await h.getResponse(alice, committed.id), undefined);
  });

  test('another owner sees nothing and changes nothing, pending or committed', async () => {
    const h = s.history;
    const alice = unique('alice');
    const mallory = unique('mallory');
    const { conversation, items: [item] } = await h.createConversation(alice, { v: 'alice' }, [turn(1)]);
    const saved = response(alice);
    await h.saveResponse(saved);
    for (const when of ['pending', 'flushed']) {
      assert.equal(await h.getConversation(mallory, conversation.id), undefined, when);
      assert.deepEqual(await h.listConversations(mallory, { limit: 10, order: 'desc' }), { data: [], hasMore: false }, when);
      assert.deepEqual(await h.listConversations(mallory, { after: conversation.id, limit: 10, order: 'desc' }), { data: [], hasMore: false }, when);
      assert.equal(await h.updateConversation(mallory, conversation.id, { v: 'mallory' }), undefined, when);
      assert.equal(await h.appendItems(mallory, conversation.id, [turn(9)]), undefined, when);
      assert.equal(await h.listItems(mallory, conversation.id, { limit: 10, order: 'asc' }), undefined, when);
      assert.equal(await h.getItem(mallory, conversation.id, item!.id), undefined, when);
      assert.equal(await h.deleteItem(mallory, conversation.id, item!.id), false, when);
      assert.equal(await h.deleteConversation(mallory, conversation.id), false, when);
      assert.equal(await h.getResponse(mallory, saved.id), undefined, when);
      assert.equal(await h.deleteResponse(mallory, saved.id), false, when);
      await s.flush();
    }
    assert.deepEqual((await h.getConversation(alice, conversation.id))?.metadata, { v: 'alice' });
    assert.deepEqual(await itemTexts(h, alice, conversation.id, 'asc', 10), turns(1));
    assert.deepEqual(await h.getResponse(alice, saved.id), saved);
  });

  test('usage records reach the database, each once', async () => {
    const h = s.history;
    const identity = unique('key');
    for (let n = 0; n < 5; n++) {
      h.recordUsage({
        id: unique('usage'), identity, model: 'sim-chat', deployment: 'sim-a', promptTokens: n, completionTokens: 2 * n,
        latencyMs: 10, status: 200, costUsd: '0.00000100', createdAt: 1_000 + n,
      });
    }
    // recordUsage returns at once; the record is accepted (and then flushed) shortly after.
    const count = async () => (await s.db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM usage_records WHERE identity = $1', [identity]))[0]!.n;
    await eventually('5 usage records flushed', async () => {
      await s.flush();
      return (await count()) === 5;
    });
    assert.equal(h.stats().droppedUsage, 0);
  });
});
