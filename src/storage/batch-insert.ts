// Multi-row INSERTs for batched flushes. Values only ever travel as $n parameters; the SQL text
// holds generated placeholders and the caller's constant table and column names, nothing else.
import type { Queryable } from './database.js';

/** PostgreSQL's Bind message counts parameters in 16 bits, so one statement takes at most this many. */
export const MAX_PARAMETERS = 65_535;

/** A column and the type its placeholder is cast to, so both engines read parameters alike. */
export type Column = readonly [name: string, type: string];

/** `rows` in order, cut into runs whose parameters fit in one statement. */
export function chunks<T>(rows: readonly T[], parametersPerRow: number): T[][] {
  const size = Math.floor(MAX_PARAMETERS / parametersPerRow);
  const runs: T[][] = [];
  for (let start = 0; start < rows.length; start += size) runs.push(rows.slice(start, start + size));
  return runs;
}

/** `($1::text, $2::int8), ($3::text, $4::int8)`: placeholders for `rowCount` rows of `types`. */
export function valuesList(rowCount: number, types: readonly string[]): string {
  const rows: string[] = [];
  for (let row = 0; row < rowCount; row++) {
    const base = row * types.length;
    rows.push(`(${types.map((type, column) => `$${base + column + 1}::${type}`).join(', ')})`);
  }
  return rows.join(', ');
}

/**
 * Inserts `rows` into `table`, skipping any whose id is already there, so a replayed batch writes
 * nothing twice. Rows go in the order given, one statement per chunk: callers pass them sorted by
 * key, because two transactions that insert the same keys in the same order wait for each other
 * instead of deadlocking. Returns how many rows were new.
 */
export async function insertNew<T>(
  q: Queryable,
  table: string,
  columns: readonly Column[],
  rows: readonly T[],
  values: (row: T) => readonly unknown[],
): Promise<number> {
  const names = columns.map(([name]) => name).join(', ');
  const types = columns.map(([, type]) => type);
  let inserted = 0;
  for (const run of chunks(rows, columns.length)) {
    const [counted] = await q.query<{ n: number }>(
      `WITH inserted AS (
         INSERT INTO ${table} (${names}) VALUES ${valuesList(run.length, types)}
         ON CONFLICT (id) DO NOTHING RETURNING 1
       ) SELECT count(*) AS n FROM inserted`,
      run.flatMap(values),
    );
    inserted += counted?.n ?? 0;
  }
  return inserted;
}

/** Compares ids and other sort keys by code unit, as a deterministic lock order needs (not by locale). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
