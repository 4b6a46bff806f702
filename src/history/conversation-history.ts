// Conversations as the API sees them in embedded mode: writes go to the hot buffer (the caller's
// success waits only for that), reads merge the database with what the buffer still holds, so a
// caller who comes back at once sees the whole history, in order.
//
// Ordering: each conversation's items get increasing seq numbers, assigned here one append at a
// time; the buffer writes in arrival order, so every item still pending comes after every item
// already in the database. Reads therefore put the database's rows first and pending ones after.
import { randomBytes } from 'node:crypto';
import type { Database } from '../storage/database.js';
import {
  getConversation as getStoredConversation,
  getItem as getStoredItem,
  listItems as listStoredItems,
  maxSeq,
  type ConversationRow,
  type ItemRow,
  type JsonObject,
  type Page,
  type PageRequest,
} from '../storage/conversation-store.js';
import { historyWriter, type HistoryEntry } from './history-writer.js';
import { MemoryWriteBuffer, type WriteBufferOptions } from './write-buffer.js';

export interface NewItem {
  /** OpenAI-style item id (msg_..., fc_...); generated when absent. */
  id?: string;
  type: string;
  body: JsonObject;
}

export class ConversationHistory {
  /** Pending (not yet committed) rows, indexed for reads; entries leave once their batch committed. */
  private readonly pendingConversations = new Map<string, ConversationRow>();
  private readonly pendingItems = new Map<string, ItemRow[]>();
  /** Appends to one conversation run one at a time, so two never take the same seq. */
  private readonly appending = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: Database,
    private readonly buffer: MemoryWriteBuffer<HistoryEntry>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called by the buffer's writer after a batch committed: those rows are the database's now. */
  committed(batch: readonly HistoryEntry[]): void {
    for (const entry of batch) {
      if (entry.kind === 'conversation') {
        if (this.pendingConversations.get(entry.row.id) === entry.row) this.pendingConversations.delete(entry.row.id);
      } else if (entry.kind === 'item') {
        const list = this.pendingItems.get(entry.row.conversationId);
        // Batches commit in arrival order, so a committed item is at the head of its list.
        if (list?.[0] === entry.row) list.shift();
        if (list?.length === 0) this.pendingItems.delete(entry.row.conversationId);
      }
    }
  }

  /** A new conversation with its initial items, accepted in one step (all or nothing). */
  createConversation(owner: string, metadata: JsonObject, items: readonly NewItem[] = []): { conversation: ConversationRow; items: ItemRow[] } {
    const now = this.now();
    const conversation: ConversationRow = { id: `conv_${randomBytes(24).toString('hex')}`, owner, metadata, createdAt: now, updatedAt: now };
    const rows = items.map((item, i) => itemRow(conversation.id, i + 1, item, now));
    this.buffer.append([{ kind: 'conversation', row: conversation }, ...rows.map((row) => ({ kind: 'item' as const, row }))]);
    this.pendingConversations.set(conversation.id, conversation);
    if (rows.length > 0) this.pendingItems.set(conversation.id, rows);
    return { conversation, items: rows };
  }

  async getConversation(owner: string, id: string): Promise<ConversationRow | undefined> {
    const pending = this.pendingConversations.get(id);
    if (pending) return pending.owner === owner ? pending : undefined;
    return getStoredConversation(this.db, owner, id);
  }

  /** Appends items after the conversation's last; undefined when the caller cannot see it. */
  async appendItems(owner: string, conversationId: string, items: readonly NewItem[]): Promise<ItemRow[] | undefined> {
    const previous = this.appending.get(conversationId) ?? Promise.resolve();
    const turn = previous.catch(() => {}).then(async () => {
      if (!(await this.getConversation(owner, conversationId))) return undefined;
      const pending = this.pendingItems.get(conversationId);
      const last = pending?.at(-1)?.seq ?? (await maxSeq(this.db, conversationId)) ?? 0;
      const now = this.now();
      const rows = items.map((item, i) => itemRow(conversationId, last + 1 + i, item, now));
      this.buffer.append(rows.map((row) => ({ kind: 'item' as const, row })));
      const list = this.pendingItems.get(conversationId) ?? [];
      list.push(...rows);
      this.pendingItems.set(conversationId, list);
      return rows;
    });
    this.appending.set(conversationId, turn);
    try {
      return await turn;
    } finally {
      if (this.appending.get(conversationId) === turn) this.appending.delete(conversationId);
    }
  }

  /** A page of items, the database's rows and the pending ones merged in order. */
  async listItems(owner: string, conversationId: string, request: PageRequest): Promise<Page<ItemRow> | undefined> {
    if (!(await this.getConversation(owner, conversationId))) return undefined;
    const pending = [...(this.pendingItems.get(conversationId) ?? [])];
    const { after, limit, order } = request;
    const cursorAt = after === undefined ? -1 : pending.findIndex((row) => row.id === after);

    if (order === 'asc') {
      if (cursorAt >= 0) return pageOf(pending.slice(cursorAt + 1), limit);
      // A cursor the database does not know (nor the buffer) is an empty page, as the store's.
      if (after !== undefined && !(await getStoredItem(this.db, owner, conversationId, after))) return { data: [], hasMore: false };
      const stored = (await listStoredItems(this.db, owner, conversationId, request)) ?? { data: [], hasMore: false };
      if (stored.hasMore) return stored;
      return pageOf([...stored.data, ...pending], limit);
    }

    // Newest first: pending rows (the newest), then the database's.
    const newerFirst = pending.reverse();
    const fromPending = cursorAt >= 0 ? newerFirst.slice(newerFirst.findIndex((row) => row.id === after) + 1) : after === undefined ? newerFirst : [];
    if (fromPending.length > limit) return pageOf(fromPending, limit);
    const storedRequest: PageRequest = cursorAt >= 0 || after === undefined ? { limit: limit - fromPending.length || 1, order } : request;
    const stored = (await listStoredItems(this.db, owner, conversationId, storedRequest)) ?? { data: [], hasMore: false };
    if (fromPending.length === limit) return { data: fromPending, hasMore: stored.data.length > 0 };
    return { data: [...fromPending, ...stored.data], hasMore: stored.hasMore };
  }
}

function itemRow(conversationId: string, seq: number, item: NewItem, now: number): ItemRow {
  return { id: item.id ?? `msg_${randomBytes(24).toString('hex')}`, conversationId, seq, type: item.type, body: item.body, createdAt: now };
}

function pageOf<T>(rows: readonly T[], limit: number): Page<T> {
  return { data: rows.slice(0, limit), hasMore: rows.length > limit };
}

/** Embedded mode wired up: the buffer writes through the stores and tells the history what committed. */
export function embeddedHistory(db: Database, options: WriteBufferOptions, onWriteError?: (error: unknown) => void) {
  const writer = historyWriter(db);
  // The buffer's writer reports to the history, which is built from the buffer: bound late.
  const bound: { history?: ConversationHistory } = {};
  const buffer = new MemoryWriteBuffer<HistoryEntry>({
    async write(batch) {
      await writer.write(batch);
      bound.history?.committed(batch);
    },
  }, options, onWriteError);
  const history = new ConversationHistory(db, buffer);
  bound.history = history;
  return { history, buffer };
}
