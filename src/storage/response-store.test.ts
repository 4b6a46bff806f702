// The response store's conformance suite, on PGlite and on a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachEngine } from '../../test/support/databases.js';
import { deleteResponse, getResponse, insertResponses, type ResponseRow } from './response-store.js';

const response = (id: string, owner: string, extra: Partial<ResponseRow> = {}): ResponseRow => ({
  id,
  owner,
  conversationId: null,
  previousResponseId: null,
  model: 'sim-chat',
  status: 'completed',
  body: { id, object: 'response', output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }] },
  inputItems: [{ type: 'message', role: 'user', content: 'hello' }, { type: 'message', role: 'user', content: 'again' }],
  createdAt: 1_000,
  ...extra,
});

eachEngine('response store', (s) => {

  test('a response round-trips whole: input items stay a JSON array, absent links stay null', async () => {
    const linked = response('resp_linked', 'alice', { conversationId: 'conv_1', previousResponseId: 'resp_round' });
    assert.equal(await insertResponses(s.db, [linked, response('resp_round', 'alice')]), 2);
    assert.deepEqual(await getResponse(s.db, 'alice', 'resp_round'), response('resp_round', 'alice'));
    assert.deepEqual(await getResponse(s.db, 'alice', 'resp_linked'), linked);
  });

  test('a response is its owner\'s alone: another owner reads, deletes and replays nothing', async () => {
    await insertResponses(s.db, [response('resp_iso', 'alice')]);
    assert.equal(await getResponse(s.db, 'mallory', 'resp_iso'), undefined);
    assert.equal(await deleteResponse(s.db, 'mallory', 'resp_iso', 2_000), false);
    assert.equal(await insertResponses(s.db, [response('resp_iso', 'mallory', { status: 'failed' })]), 0);
    assert.deepEqual(await getResponse(s.db, 'alice', 'resp_iso'), response('resp_iso', 'alice'));
  });

  test('a soft-deleted response reads as missing and deletes once', async () => {
    await insertResponses(s.db, [response('resp_gone', 'alice')]);
    assert.equal(await deleteResponse(s.db, 'alice', 'resp_gone', 2_000), true);
    assert.equal(await deleteResponse(s.db, 'alice', 'resp_gone', 2_001), false);
    assert.equal(await getResponse(s.db, 'alice', 'resp_gone'), undefined);
  });

  test('a batch past one statement\'s parameter limit goes in whole and replays as nothing', async () => {
    const rows = Array.from({ length: 7_500 }, (_, n) => response(`resp_bulk_${n}`, 'bulk', { createdAt: n }));
    assert.equal(await insertResponses(s.db, rows), 7_500);
    assert.equal(await insertResponses(s.db, rows.slice(7_000)), 0);
    assert.deepEqual(await getResponse(s.db, 'bulk', 'resp_bulk_7499'), rows[7_499]);
  });
});
