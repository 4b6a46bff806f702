// Stored responses (the Responses API's `store: true`), scoped by owner like conversations: a
// response of another owner reads as missing. Written by batched flushes, so inserts skip ids
// already stored; deletion is soft.
import { compareText, insertNew, type Column } from './batch-insert.js';
import type { Queryable } from './database.js';
import { toJsonb, type JsonObject } from './jsonb.js';

/** A visible response (reads never return deleted ones). createdAt is epoch milliseconds. */
export interface ResponseRow {
  id: string;
  owner: string;
  conversationId: string | null;
  previousResponseId: string | null;
  model: string;
  status: string;
  body: JsonObject;
  /** The input items the response answered, as the API lists them back. */
  inputItems: unknown[];
  createdAt: number;
}

const INSERT_COLUMNS: readonly Column[] = [
  ['id', 'text'], ['owner', 'text'], ['conversation_id', 'text'], ['previous_response_id', 'text'], ['model', 'text'],
  ['status', 'text'], ['body', 'jsonb'], ['input_items', 'jsonb'], ['created_at', 'int8'],
];

const SELECTED = `id, owner, conversation_id AS "conversationId", previous_response_id AS "previousResponseId",
  model, status, body, input_items AS "inputItems", created_at AS "createdAt"`;

/**
 * Inserts responses sorted by id, skipping ids already stored: a stored response is never
 * overwritten by a replay. Returns how many were new.
 */
export function insertResponses(q: Queryable, rows: readonly ResponseRow[]): Promise<number> {
  const sorted = [...rows].sort((a, b) => compareText(a.id, b.id));
  return insertNew(q, 'responses', INSERT_COLUMNS, sorted, (row) => [
    row.id, row.owner, row.conversationId, row.previousResponseId, row.model,
    row.status, toJsonb(row.body), toJsonb(row.inputItems), row.createdAt,
  ]);
}

export async function getResponse(q: Queryable, owner: string, id: string): Promise<ResponseRow | undefined> {
  const [row] = await q.query<ResponseRow>(
    `SELECT ${SELECTED} FROM responses WHERE id = $1 AND owner = $2 AND deleted_at IS NULL`,
    [id, owner],
  );
  return row;
}

/** Soft-deletes a response. False when it was not visible to `owner`. */
export async function deleteResponse(q: Queryable, owner: string, id: string, now: number): Promise<boolean> {
  const rows = await q.query(
    'UPDATE responses SET deleted_at = $3 WHERE id = $1 AND owner = $2 AND deleted_at IS NULL RETURNING id',
    [id, owner, now],
  );
  return rows.length > 0;
}
