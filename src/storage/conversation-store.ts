// Conversations, for the batched history flush and the Conversations API. Every read and change
// is scoped by owner: another owner's conversation behaves exactly like a missing one (undefined
// or false, never an error), so a caller cannot learn that an id exists. Deletion is soft
// (deleted_at), and a deleted conversation hides its items without touching them. Writes take
// the time as `now` (epoch ms) from the caller, so tests and replays need no clock.
// Items live in conversation-items.ts and are re-exported here, so callers import one module.
import { compareText, insertNew, type Column } from './batch-insert.js';
import type { Queryable } from './database.js';
import { toJsonb, type JsonObject } from './jsonb.js';
import { pagePlan, toPage, type Page, type PageRequest } from './page.js';

export * from './conversation-items.js';
export type { JsonObject } from './jsonb.js';
export type { Order, Page, PageRequest } from './page.js';

/** A visible conversation (reads never return deleted ones). Times are epoch milliseconds. */
export interface ConversationRow {
  id: string;
  owner: string;
  metadata: JsonObject;
  createdAt: number;
  updatedAt: number;
}

const INSERT_COLUMNS: readonly Column[] = [
  ['id', 'text'], ['owner', 'text'], ['metadata', 'jsonb'], ['created_at', 'int8'], ['updated_at', 'int8'],
];

const SELECTED = 'id, owner, metadata, created_at AS "createdAt", updated_at AS "updatedAt"';

/**
 * Inserts conversations, skipping ids already stored (a replayed batch changes nothing, and an
 * existing conversation keeps its owner). Sorted by id so concurrent flushers lock in one order.
 * Returns how many were new.
 */
export function insertConversations(q: Queryable, rows: readonly ConversationRow[]): Promise<number> {
  const sorted = [...rows].sort((a, b) => compareText(a.id, b.id));
  return insertNew(q, 'conversations', INSERT_COLUMNS, sorted, (row) => [
    row.id, row.owner, toJsonb(row.metadata), row.createdAt, row.updatedAt,
  ]);
}

export async function getConversation(q: Queryable, owner: string, id: string): Promise<ConversationRow | undefined> {
  const [row] = await q.query<ConversationRow>(
    `SELECT ${SELECTED} FROM conversations WHERE id = $1 AND owner = $2 AND deleted_at IS NULL`,
    [id, owner],
  );
  return row;
}

/** Where a conversation sits in its owner's list: the key listConversations pages by. */
export interface ConversationPosition {
  createdAt: number;
  id: string;
}

/**
 * The owner's conversations ordered by (created_at, id): `desc` is newest first. `after` is the
 * id of the last conversation of the previous page; it still works once that one is deleted,
 * so deleting while paging skips nothing. `position`, when given, replaces `after`'s lookup: the
 * history passes it when the cursor conversation is not in the database yet (still pending).
 */
export async function listConversations(
  q: Queryable, owner: string, request: PageRequest, position?: ConversationPosition,
): Promise<Page<ConversationRow>> {
  const { by, past, fetch } = pagePlan(request);
  const params: unknown[] = [owner, fetch];
  let cursor = '';
  if (position) {
    params.push(position.createdAt, position.id);
    cursor = `AND (created_at, id) ${past} ($3::int8, $4::text)`;
  } else if (request.after !== undefined) {
    params.push(request.after);
    // The cursor's created_at is an uncorrelated scalar subquery, run once before the scan, so the
    // row comparison bounds the (owner, created_at, id) index scan; ties on created_at fall to id.
    // An id the owner cannot see gives NULL: no rows.
    cursor = `AND (created_at, id) ${past} ((SELECT created_at FROM conversations WHERE id = $3 AND owner = $1), $3)`;
  }
  const rows = await q.query<ConversationRow>(
    `SELECT ${SELECTED} FROM conversations
     WHERE owner = $1 AND deleted_at IS NULL ${cursor}
     ORDER BY created_at ${by}, id ${by} LIMIT $2`,
    params,
  );
  return toPage(rows, request.limit);
}

/** A conversation's list position, deleted ones included (a cursor stays valid); owner-scoped. */
export async function conversationPosition(q: Queryable, owner: string, id: string): Promise<ConversationPosition | undefined> {
  const [row] = await q.query<ConversationPosition>(
    'SELECT created_at AS "createdAt", id FROM conversations WHERE id = $1 AND owner = $2',
    [id, owner],
  );
  return row;
}

/**
 * Replaces the metadata (OpenAI's update replaces, it does not merge). `now` moves updated_at,
 * never backwards: clocks of several gateway processes disagree. Undefined when not visible.
 */
export async function updateMetadata(
  q: Queryable, owner: string, id: string, metadata: JsonObject, now: number,
): Promise<ConversationRow | undefined> {
  const [row] = await q.query<ConversationRow>(
    `UPDATE conversations SET metadata = $3::jsonb, updated_at = GREATEST(updated_at, $4::int8)
     WHERE id = $1 AND owner = $2 AND deleted_at IS NULL
     RETURNING ${SELECTED}`,
    [id, owner, toJsonb(metadata), now],
  );
  return row;
}

/** Soft-deletes a conversation, which hides its items too. False when it was not visible. */
export async function deleteConversation(q: Queryable, owner: string, id: string, now: number): Promise<boolean> {
  const rows = await q.query(
    'UPDATE conversations SET deleted_at = $3 WHERE id = $1 AND owner = $2 AND deleted_at IS NULL RETURNING id',
    [id, owner, now],
  );
  return rows.length > 0;
}
