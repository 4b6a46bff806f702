// Applies the migrations a database lacks, at start-up. Several gateway processes may start at
// once against one PostgreSQL: a transaction-scoped advisory lock lets one apply them while the
// others wait, then find nothing left to do.
import type { Database } from './database.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

/** Any fixed number: the lock's name among PostgreSQL's advisory locks. */
const MIGRATION_LOCK = 727_460_013;

export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS floodgate_migrations (
    id int4 PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
  )`).catch(async (error: unknown) => {
    // Two processes racing to create the table: one wins, the other sees a duplicate.
    if (!(await tableExists(db))) throw error;
  });
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const done = await tx.query('SELECT 1 FROM floodgate_migrations WHERE id = $1', [migration.id]);
      if (done.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO floodgate_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
      return true;
    });
    if (ran) applied.push(migration.id);
  }
  return applied;
}

async function tableExists(db: Database): Promise<boolean> {
  const rows = await db.query<{ present: boolean }>("SELECT to_regclass('floodgate_migrations') IS NOT NULL AS present");
  return rows[0]?.present === true;
}
