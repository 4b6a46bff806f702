// Usage records, one per upstream call, written by batched flushes: inserts skip ids already
// stored, so a replayed batch counts nothing twice.
import { compareText, insertNew, type Column } from './batch-insert.js';
import type { Queryable } from './database.js';

export interface UsageRow {
  id: string;
  /** Who made the call (the API key's identity). */
  identity: string;
  model: string;
  deployment: string | null;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  /** The HTTP status the client got. */
  status: number;
  /** Decimal text (numeric(14, 8)), so no cent is lost to binary floating point. */
  costUsd: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
}

const INSERT_COLUMNS: readonly Column[] = [
  ['id', 'text'], ['identity', 'text'], ['model', 'text'], ['deployment', 'text'], ['prompt_tokens', 'int4'],
  ['completion_tokens', 'int4'], ['latency_ms', 'int4'], ['status', 'int2'], ['cost_usd', 'numeric'], ['created_at', 'int8'],
];

/** Inserts usage records sorted by id, skipping ids already stored. Returns how many were new. */
export function insertUsage(q: Queryable, rows: readonly UsageRow[]): Promise<number> {
  const sorted = [...rows].sort((a, b) => compareText(a.id, b.id));
  return insertNew(q, 'usage_records', INSERT_COLUMNS, sorted, (row) => [
    row.id, row.identity, row.model, row.deployment, row.promptTokens,
    row.completionTokens, row.latencyMs, row.status, row.costUsd, row.createdAt,
  ]);
}
