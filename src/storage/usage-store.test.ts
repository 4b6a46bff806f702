// The usage store's conformance suite, on PGlite and on a real PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachEngine } from '../../test/support/databases.js';
import { insertUsage, type UsageRow } from './usage-store.js';

const usage = (id: string, extra: Partial<UsageRow> = {}): UsageRow => ({
  id,
  identity: 'key_1',
  model: 'sim-chat',
  deployment: 'sim-a',
  promptTokens: 12,
  completionTokens: 34,
  latencyMs: 56,
  status: 200,
  costUsd: '0.00012345',
  createdAt: 1_795_282_131_123,
  ...extra,
});

eachEngine('usage store', (s) => {

  test('usage records round-trip (cost as exact decimal text) and a replay counts nothing twice', async () => {
    assert.equal(await insertUsage(s.db, [usage('u2', { deployment: null, costUsd: null, status: 503 }), usage('u1')]), 2);
    assert.equal(await insertUsage(s.db, [usage('u1'), usage('u2'), usage('u3')]), 1);
    const rows = await s.db.query(
      `SELECT id, deployment, cost_usd, status, created_at FROM usage_records WHERE id IN ('u1', 'u2') ORDER BY id`,
    );
    assert.deepEqual(rows, [
      { id: 'u1', deployment: 'sim-a', cost_usd: '0.00012345', status: 200, created_at: 1_795_282_131_123 },
      { id: 'u2', deployment: null, cost_usd: null, status: 503, created_at: 1_795_282_131_123 },
    ]);
  });

  test('a batch past one statement\'s parameter limit goes in whole (7,000 rows of 10 columns)', async () => {
    const rows = Array.from({ length: 7_000 }, (_, n) => usage(`bulk_${n}`, { identity: 'bulk' }));
    assert.equal(await insertUsage(s.db, rows), 7_000);
    const [counted] = await s.db.query<{ n: number }>(`SELECT count(*) AS n FROM usage_records WHERE identity = 'bulk'`);
    assert.equal(counted!.n, 7_000);
  });
});
