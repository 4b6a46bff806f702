// PostgreSQL through node-postgres' pool. int8 is parsed as a JavaScript number (timestamps in ms
// and counters stay far below 2^53), as PGlite does, so rows look the same from both engines.
import pg from 'pg';
import type { Database, Queryable } from './database.js';

const INT8_OID = 20;

/** Type parsers for this pool only: no global change to pg for whoever else uses it. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export async function openPostgres(url: string, maxConnections: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections, types, connectionTimeoutMillis: 5000 });
  // An idle client that loses its connection emits 'error' on the pool; unhandled, it would crash.
  pool.on('error', () => {});
  await pool.query('SELECT 1');
  const on = (client: pg.Pool | pg.PoolClient): Queryable => ({
    query: async (sql, params) => (await client.query(sql, params as unknown[] | undefined)).rows,
    // Without parameters node-postgres uses the simple protocol, which runs several statements.
    exec: async (sql) => void (await client.query(sql)),
  });
  return {
    engine: 'postgres',
    ...on(pool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(on(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
