// The one database interface the rest of Floodgate uses: plain SQL with $1 parameters and
// transactions, over PostgreSQL (scale-out, DATABASE_URL) or PGlite (the embedded default: a
// directory under ./data, nothing to install). Both are PostgreSQL underneath, so one schema and
// one set of queries serve both; the conformance suite (database.test.ts) runs against each.
export interface Queryable {
  /** One statement; rows as plain objects. int8 columns come back as numbers from both engines. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://... : PostgreSQL. Absent: PGlite in `dataDir`. */
  url?: string;
  /** PGlite's directory; `memory://` keeps it in memory (tests). Default ./data/pglite. */
  dataDir?: string;
  /** PostgreSQL pool size per process. */
  maxConnections?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(options.url, options.maxConnections ?? 10);
  }
  const { openPglite } = await import('./pglite.js');
  return openPglite(options.dataDir ?? './data/pglite');
}
