// The items of a conversation, one row each, ordered by (seq, id): seq is the position the writer
// assigned, and id breaks the tie if two writers ever assign the same seq (see migration 001).
// Reads and deletes see an item only through its conversation: same owner, not deleted. Both are
// checked in the same statement as a join, never as a separate round trip.
import { chunks, compareText, insertNew, valuesList, type Column } from './batch-insert.js';
import type { Queryable } from './database.js';
import { toJsonb, type JsonObject } from './jsonb.js';
import { pagePlan, toPage, type Page, type PageRequest } from './page.js';

/** A visible item (reads never return deleted ones). createdAt is epoch milliseconds. */
export interface ItemRow {
  id: string;
  conversationId: string;
  seq: number;
  type: string;
  body: JsonObject;
  createdAt: number;
}

const INSERT_COLUMNS: readonly Column[] = [
  ['id', 'text'], ['conversation_id', 'text'], ['seq', 'int8'], ['type', 'text'], ['body', 'jsonb'], ['created_at', 'int8'],
];

/** The columns of an ItemRow, read from table alias `t`. */
const selected = (t: string) =>
  `${t}.id, ${t}.conversation_id AS "conversationId", ${t}.seq, ${t}.type, ${t}.body, ${t}.created_at AS "createdAt"`;

/** The order items are written in, so concurrent flushers take their locks in one order. */
function byPosition(a: ItemRow, b: ItemRow): number {
  return compareText(a.conversationId, b.conversationId) || a.seq - b.seq || compareText(a.id, b.id);
}

/**
 * Inserts items, skipping ids already stored, and moves each touched conversation's updated_at up
 * to its newest item's createdAt. Replaying a batch writes nothing twice and leaves updated_at as
 * it was. Items may arrive before their conversation row (no foreign key): that conversation is
 * simply not touched. Call it once per transaction: its lock order holds within one call.
 * Returns how many items were new.
 */
export async function insertItems(q: Queryable, rows: readonly ItemRow[]): Promise<number> {
  const sorted = [...rows].sort(byPosition);
  const inserted = await insertNew(q, 'conversation_items', INSERT_COLUMNS, sorted, (row) => [
    row.id, row.conversationId, row.seq, row.type, toJsonb(row.body), row.createdAt,
  ]);
  await touchConversations(q, newestPerConversation(sorted));
  return inserted;
}

/** [conversationId, newest createdAt] for each conversation in `items`, sorted by id. */
function newestPerConversation(items: readonly ItemRow[]): [string, number][] {
  const newest = new Map<string, number>();
  for (const { conversationId, createdAt } of items) {
    newest.set(conversationId, Math.max(newest.get(conversationId) ?? createdAt, createdAt));
  }
  return [...newest].sort(([a], [b]) => compareText(a, b));
}

/**
 * Moves updated_at forward, never back. An UPDATE ... FROM locks rows in whatever order its join
 * plan meets them, which two flushers may not share; the `locked` subquery takes the row locks
 * first, sorted by id (its lock step runs after its ORDER BY), and the UPDATE only ever touches
 * rows it has already locked. (With nested-loop joins forced and VALUES out of order, the
 * four-flusher test deadlocks without it.)
 */
async function touchConversations(q: Queryable, newest: readonly [string, number][]): Promise<void> {
  for (const run of chunks(newest, 2)) {
    await q.query(
      `WITH touched (id, at) AS (VALUES ${valuesList(run.length, ['text', 'int8'])})
       UPDATE conversations AS c SET updated_at = touched.at
       FROM touched, (
         SELECT id FROM conversations
         WHERE id IN (SELECT id FROM touched) AND deleted_at IS NULL
         ORDER BY id FOR NO KEY UPDATE
       ) AS locked
       WHERE c.id = touched.id AND c.id = locked.id AND c.updated_at < touched.at`,
      run.flat(),
    );
  }
}

/**
 * A page of a conversation's items in seq order; `after` is an item id of the same conversation
 * (still valid once that item is deleted). Undefined when the conversation is not visible to
 * `owner`, so the API can answer 404 rather than an empty list.
 */
export async function listItems(
  q: Queryable, owner: string, conversationId: string, request: PageRequest,
): Promise<Page<ItemRow> | undefined> {
  const { by, past, fetch } = pagePlan(request);
  const params: unknown[] = [conversationId, owner, fetch];
  let cursor = '';
  if (request.after !== undefined) {
    params.push(request.after);
    // The cursor's seq is an uncorrelated scalar subquery, run once before the scan, so the row
    // comparison bounds the (conversation_id, seq, id) index scan instead of filtering every row
    // before the cursor. An unknown id, or one from another conversation, gives NULL: no rows.
    cursor = `AND (i.seq, i.id) ${past} ((SELECT seq FROM conversation_items WHERE id = $4 AND conversation_id = $1), $4)`;
  }
  // The LEFT JOIN keeps one all-null row for a visible conversation without (more) items, so a
  // single statement tells "no such conversation" (no rows) from "no items" (one null row).
  const rows = await q.query<ItemRow | { [K in keyof ItemRow]: null }>(
    `SELECT ${selected('page')} FROM conversations AS c
     LEFT JOIN LATERAL (
       SELECT * FROM conversation_items AS i
       WHERE i.conversation_id = c.id AND i.deleted_at IS NULL ${cursor}
       ORDER BY i.seq ${by}, i.id ${by} LIMIT $3
     ) AS page ON true
     WHERE c.id = $1 AND c.owner = $2 AND c.deleted_at IS NULL
     ORDER BY page.seq ${by}, page.id ${by}`,
    params,
  );
  if (rows.length === 0) return undefined;
  return toPage(rows.filter((row): row is ItemRow => row.id !== null), request.limit);
}

export async function getItem(q: Queryable, owner: string, conversationId: string, itemId: string): Promise<ItemRow | undefined> {
  const [row] = await q.query<ItemRow>(
    `SELECT ${selected('i')} FROM conversation_items AS i JOIN conversations AS c ON c.id = i.conversation_id
     WHERE i.id = $1 AND i.conversation_id = $2 AND i.deleted_at IS NULL AND c.owner = $3 AND c.deleted_at IS NULL`,
    [itemId, conversationId, owner],
  );
  return row;
}

/** Soft-deletes one item. False when it, or its conversation, was not visible to `owner`. */
export async function deleteItem(q: Queryable, owner: string, conversationId: string, itemId: string, now: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE conversation_items AS i SET deleted_at = $4 FROM conversations AS c
     WHERE i.id = $1 AND i.conversation_id = $2 AND i.deleted_at IS NULL
       AND c.id = i.conversation_id AND c.owner = $3 AND c.deleted_at IS NULL
     RETURNING i.id`,
    [itemId, conversationId, owner, now],
  );
  return rows.length > 0;
}

/**
 * The highest seq stored for a conversation, deleted items included (a seq is never reused);
 * undefined when it has none. Not scoped by owner: it serves the writer that assigns seqs, which
 * has already authorised the conversation, possibly before the conversation row is flushed.
 * Never expose it to a client.
 */
export async function maxSeq(q: Queryable, conversationId: string): Promise<number | undefined> {
  const [row] = await q.query<{ seq: number | null }>(
    'SELECT max(seq) AS seq FROM conversation_items WHERE conversation_id = $1',
    [conversationId],
  );
  return row?.seq ?? undefined;
}

// The history (src/history) reads items of conversations it has already authorised, some of
// which are not in the database yet (their conversation row is still waiting to be flushed), so
// the functions below check neither owner nor conversation. Never expose them to a client as is.

/** Where an item sits in its conversation: the key item pages are ordered by. */
export interface ItemPosition {
  seq: number;
  id: string;
}

/** An item's position, deleted items included (a cursor stays valid once its item is deleted). */
export async function itemPosition(q: Queryable, conversationId: string, itemId: string): Promise<ItemPosition | undefined> {
  const [row] = await q.query<ItemPosition>(
    'SELECT seq, id FROM conversation_items WHERE id = $1 AND conversation_id = $2',
    [itemId, conversationId],
  );
  return row;
}

/** A page of a conversation's visible items after `position` (from the start when absent). */
export async function listItemRows(
  q: Queryable, conversationId: string, request: Omit<PageRequest, 'after'>, position?: ItemPosition,
): Promise<Page<ItemRow>> {
  const { by, past, fetch } = pagePlan(request);
  const params: unknown[] = [conversationId, fetch];
  let cursor = '';
  if (position) {
    params.push(position.seq, position.id);
    cursor = `AND (i.seq, i.id) ${past} ($3::int8, $4::text)`;
  }
  const rows = await q.query<ItemRow>(
    `SELECT ${selected('i')} FROM conversation_items AS i
     WHERE i.conversation_id = $1 AND i.deleted_at IS NULL ${cursor}
     ORDER BY i.seq ${by}, i.id ${by} LIMIT $2`,
    params,
  );
  return toPage(rows, request.limit);
}

/** One visible item of a conversation. */
export async function findItem(q: Queryable, conversationId: string, itemId: string): Promise<ItemRow | undefined> {
  const [row] = await q.query<ItemRow>(
    `SELECT ${selected('i')} FROM conversation_items AS i WHERE i.id = $1 AND i.conversation_id = $2 AND i.deleted_at IS NULL`,
    [itemId, conversationId],
  );
  return row;
}
