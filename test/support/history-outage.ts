// A database that can be taken down and brought back, for outage tests: while down, every query
// and transaction goes to a real PostgreSQL client pointed at a port nobody listens on, so the
// failures are the driver's own (ECONNREFUSED), not a mock's.
import { createServer } from 'node:net';
import pg from 'pg';
import type { Database } from '../../src/storage/database.js';

export interface OutageDatabase {
  db: Database;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/** A TCP port that was free a moment ago: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function outageDatabase(real: Database): Promise<OutageDatabase> {
  const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test`, connectionTimeoutMillis: 1_000 });
  pool.on('error', () => {});
  const state = { down: false };
  const db: Database = {
    engine: real.engine,
    query: (sql, params) => (state.down ? pool.query(sql, params as unknown[]).then((r) => r.rows) : real.query(sql, params)),
    exec: (sql) => (state.down ? pool.query(sql).then(() => {}) : real.exec(sql)),
    transaction: async (work) => {
      if (!state.down) return real.transaction(work);
      const client = await pool.connect(); // refused: the database is down
      client.release();
      throw new Error('unreachable');
    },
    close: async () => {},
  };
  return {
    db,
    down: () => void (state.down = true),
    up: () => void (state.down = false),
    close: () => pool.end(),
  };
}
