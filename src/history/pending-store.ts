// The hot side of the history, the part that differs between embedded and scale-out: it accepts
// writes (the caller's success waits only for it), keeps what is not yet in the database indexed
// for reads, and flushes it. merged-history.ts builds the whole History on top of one of these,
// so reads, merging and changes are written once for both modes:
// - memory-pending.ts: an in-process index over MemoryWriteBuffer (embedded);
// - redis-pending.ts: Redis keys next to the stream, shared by every node (scale-out).
import { compareText } from '../storage/batch-insert.js';
import type {
  ConversationPosition, ConversationRow, ItemPosition, ItemRow, JsonObject, Order, Page, PageRequest,
} from '../storage/conversation-store.js';
import type { ResponseRow } from '../storage/response-store.js';
import type { UsageRow } from '../storage/usage-store.js';
import type { HistoryStats } from './history.js';
import type { HistoryEntry } from './history-writer.js';

/** An item to accept: its id is settled, its seq and time are the store's to assign. */
export interface PendingItem {
  id: string;
  type: string;
  body: JsonObject;
}

/**
 * What the database says of a conversation an append targets, asked only when the store has no
 * state for it: undefined when the owner cannot see it, else the highest seq stored.
 */
export type LoadConversation = () => Promise<{ maxSeq: number } | undefined>;

/** Rows after `after` (exclusive) in `order`, `limit` at most. */
export interface PendingRange<P> {
  order: Order;
  limit: number;
  after?: P;
}

export interface PendingStore {
  /** A conversation and its first items (seq 1..n), stamped with the store's clock, in one step. */
  createConversation(owner: string, id: string, metadata: JsonObject, items: readonly PendingItem[]): Promise<{ conversation: ConversationRow; items: ItemRow[] }>;
  /**
   * Items after the conversation's last, seqs assigned so that no two appends ever share one;
   * undefined when the owner cannot see the conversation.
   */
  appendItems(owner: string, conversationId: string, items: readonly PendingItem[], load: LoadConversation): Promise<ItemRow[] | undefined>;
  saveResponse(row: ResponseRow): Promise<void>;
  recordUsage(row: UsageRow): Promise<void>;

  /** A pending conversation, whoever owns it (the caller checks). */
  conversation(id: string): Promise<ConversationRow | undefined>;
  conversations(owner: string, range: PendingRange<ConversationPosition>): Promise<ConversationRow[]>;
  items(conversationId: string, range: PendingRange<ItemPosition>): Promise<ItemRow[]>;
  item(conversationId: string, itemId: string): Promise<ItemRow | undefined>;
  response(id: string): Promise<ResponseRow | undefined>;

  /**
   * These rows' pending copies were written to the database by a change (update, delete): drop
   * them. Their entries stay queued and replay as no-ops. `deletedConversation` also tells later
   * appends that the conversation is gone.
   */
  settle(entries: readonly HistoryEntry[], deletedConversation?: string): Promise<void>;

  flushNow(): Promise<number>;
  stats(): Omit<HistoryStats, 'droppedUsage'>;
  drain(deadlineMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** (createdAt, id), then reversed for `desc`: the order conversations are listed in. */
export function compareConversations(a: ConversationPosition, b: ConversationPosition): number {
  return a.createdAt - b.createdAt || compareText(a.id, b.id);
}

/** (seq, id): the order items are listed in. */
export function compareItems(a: ItemPosition, b: ItemPosition): number {
  return a.seq - b.seq || compareText(a.id, b.id);
}

/** Rows strictly after `after` in `order`, sorted, at most `limit`: a page of an in-memory list. */
export function rangeOf<T extends P, P>(rows: Iterable<T>, range: PendingRange<P>, compare: (a: P, b: P) => number): T[] {
  const sign = range.order === 'asc' ? 1 : -1;
  const after = range.after;
  const picked = [...rows].filter((row) => after === undefined || sign * compare(row, after) > 0);
  return picked.sort((a, b) => sign * compare(a, b)).slice(0, range.limit);
}

/**
 * The first `limit` rows of both sources' union in the page's order, the database's copy winning
 * (each source gives its first rows past the cursor; merged-history.ts says why that is exact).
 */
export function mergePage<T extends { id: string }>(
  pending: readonly T[], stored: Page<T>, request: Omit<PageRequest, 'after'>, compare: (a: T, b: T) => number,
): Page<T> {
  const byId = new Map<string, T>();
  for (const row of pending) byId.set(row.id, row);
  for (const row of stored.data) byId.set(row.id, row);
  const sign = request.order === 'asc' ? 1 : -1;
  const rows = [...byId.values()].sort((a, b) => sign * compare(a, b));
  // stored.hasMore: the database has a row past its slice, distinct from every row in it.
  return { data: rows.slice(0, request.limit), hasMore: rows.length > request.limit || stored.hasMore };
}
