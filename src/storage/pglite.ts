// PGlite: PostgreSQL compiled to WebAssembly, in this process, persisted to a directory. One
// connection, so statements run one at a time; transactions are PGlite's own.
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.js';

export async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const on = (target: PGlite | Transaction): Queryable => ({
    query: async (sql, params) => (await target.query(sql, params as unknown[] | undefined)).rows as never[],
    exec: async (sql) => void (await target.exec(sql)),
  });
  return {
    engine: 'pglite',
    ...on(db),
    transaction: (work) => db.transaction((tx) => work(on(tx))),
    close: () => db.close(),
  };
}
