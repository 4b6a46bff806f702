// The storage conformance suite: the same tests against PGlite and a real PostgreSQL, so every
// query the gateway writes behaves the same on the embedded default and in scale-out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, testDatabase, type TestDatabase } from '../../test/support/databases.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';

for (const engine of ENGINES) {
  describe(`storage on ${engine}`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await testDatabase(engine);
    });
    after(async () => t.drop());

    test('migrations apply once, in order, and a second run finds nothing to do', async () => {
      assert.deepEqual(await migrate(t.db), MIGRATIONS.map((m) => m.id));
      assert.deepEqual(await migrate(t.db), []);
      const rows = await t.db.query<{ id: number; name: string }>('SELECT id, name FROM floodgate_migrations ORDER BY id');
      assert.deepEqual(rows.map((r) => r.id), MIGRATIONS.map((m) => m.id));
      for (const table of ['conversations', 'conversation_items', 'responses', 'usage_records', 'api_keys']) {
        const found = await t.db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
        assert.equal(found[0]!.present, true, table);
      }
    });

    test('types round-trip the same way: int8 as number, jsonb as objects, numeric as exact text', async () => {
      const now = 1_795_282_131_123;
      await t.db.query(
        `INSERT INTO usage_records (id, identity, model, deployment, prompt_tokens, completion_tokens, latency_ms, status, cost_usd, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        ['u1', 'key_1', 'sim-chat', null, 12, 34, 56, 200, '0.00012345', now],
      );
      const [row] = await t.db.query<Record<string, unknown>>('SELECT * FROM usage_records WHERE id = $1', ['u1']);
      assert.equal(row!.created_at, now);
      assert.equal(typeof row!.created_at, 'number');
      assert.equal(row!.deployment, null);
      assert.equal(row!.cost_usd, '0.00012345');
      await t.db.query(`INSERT INTO conversations (id, owner, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`, ['conv_1', 'key_1', { topic: 'rivers', n: '1' }, now]);
      const [conversation] = await t.db.query<{ metadata: unknown }>('SELECT metadata FROM conversations WHERE id = $1', ['conv_1']);
      assert.deepEqual(conversation!.metadata, { topic: 'rivers', n: '1' });
    });

    test('a multi-row insert with ON CONFLICT DO NOTHING writes each item once, however often it is replayed', async () => {
      const batch = (ids: number[]) => {
        const values: unknown[] = [];
        const rows = ids.map((n, i) => {
          values.push(`msg_${n}`, 'conv_batch', n, 'message', { role: 'user', content: [{ type: 'input_text', text: `turn ${n}` }] }, 1000 + n);
          const at = i * 6;
          return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, $${at + 6})`;
        });
        return t.db.query(`INSERT INTO conversation_items (id, conversation_id, seq, type, body, created_at) VALUES ${rows.join(', ')} ON CONFLICT (id) DO NOTHING`, values);
      };
      await batch([1, 2, 3]);
      await batch([2, 3, 4, 5]); // a flusher that crashed before its ack replays part of a batch
      const rows = await t.db.query<{ id: string; seq: number }>('SELECT id, seq FROM conversation_items WHERE conversation_id = $1 ORDER BY seq', ['conv_batch']);
      assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5]);
      const page = await t.db.query<{ seq: number }>(
        'SELECT seq FROM conversation_items WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', ['conv_batch', 2, 2],
      );
      assert.deepEqual(page.map((r) => r.seq), [3, 4], 'pages continue after a cursor');
    });

    test('a transaction that throws leaves nothing behind; one that returns is committed', async () => {
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await tx.query(`INSERT INTO api_keys (id, key_hash, created_at) VALUES ('k_rollback', 'h1', 1)`);
          throw new Error('abandon');
        }),
        /abandon/,
      );
      assert.equal((await t.db.query("SELECT 1 FROM api_keys WHERE id = 'k_rollback'")).length, 0);
      const id = await t.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO api_keys (id, key_hash, created_at) VALUES ('k_commit', 'h2', 2)`);
        return 'k_commit';
      });
      assert.equal((await t.db.query('SELECT 1 FROM api_keys WHERE id = $1', [id])).length, 1);
    });

    if (engine === 'postgres') {
      test('several processes migrating at once: one applies, the others wait and find it done', async () => {
        const fresh = await testDatabase('postgres');
        try {
          const others = await Promise.all([fresh.another!(), fresh.another!(), fresh.another!()]);
          const results = await Promise.all([fresh.db, ...others].map((db) => migrate(db)));
          assert.equal(results.filter((r) => r.length > 0).length, 1, `applied by exactly one: ${JSON.stringify(results)}`);
          const rows = await fresh.db.query('SELECT id FROM floodgate_migrations');
          assert.equal(rows.length, MIGRATIONS.length);
        } finally {
          await fresh.drop();
        }
      });
    }
  });
}
