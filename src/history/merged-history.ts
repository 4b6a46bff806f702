// The History both modes share, over a PendingStore (the hot side) and the database.
//
// Writes go to the pending store; the caller's success waits only for it. Reads ask the pending
// store first and the database second: a row only ever moves from pending to the database (a
// flush or a change commits it before its pending copy is dropped), so a row the first read
// missed is in the database by the second, and nothing accepted is ever invisible. A row briefly
// in both is deduplicated by id, the database's copy winning (it carries any change since).
//
// Pages: each source returns its first rows past the cursor, and the merged page is the first
// `limit` of their union. That is exact, because a row's predecessors within its own source are
// also its predecessors in the union, so no row of the true page lies beyond its source's slice.
//
// Changes (update or delete a conversation, delete an item or a response) are made in the
// database. When the target is still pending, it is inserted first, in the same transaction
// (inserts skip existing ids, so the flush that later replays it writes nothing), and its pending
// copy is dropped afterwards. This holds under any interleaving with the flushers, at the price
// of needing the database for these (rare) operations.
import { prefixedId } from '../core/ids.js';
import { GatewayError } from '../core/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Database, Queryable } from '../storage/database.js';
import {
  conversationPosition, deleteConversation, deleteItem, findItem, getConversation, itemPosition, listConversations,
  listItemRows, maxSeq, updateMetadata,
  type ConversationPosition, type ConversationRow, type ItemPosition, type ItemRow, type JsonObject, type Page, type PageRequest,
} from '../storage/conversation-store.js';
import { pagePlan } from '../storage/page.js';
import { deleteResponse, getResponse, type ResponseRow } from '../storage/response-store.js';
import type { UsageRow } from '../storage/usage-store.js';
import type { History, HistoryStats, NewItem } from './history.js';
import { historyUnavailable, isUnreachable, throttledWarn } from './history-errors.js';
import { writeEntries, type HistoryEntry } from './history-writer.js';
import { compareConversations, compareItems, mergePage, type PendingItem, type PendingStore } from './pending-store.js';

export interface MergedHistoryOptions {
  mode: History['mode'];
  db: Database;
  pending: PendingStore;
  logger: Logger;
  /** Retry-After for storage that cannot be reached. */
  retryMs: number;
  /** The database was opened for this history: close it with it. */
  ownsDatabase: boolean;
  now?: () => number;
}

/** A conversation the owner can see, and whether it is still pending. */
interface Visible {
  row: ConversationRow;
  pending: boolean;
}

export class MergedHistory implements History {
  readonly mode: History['mode'];
  private droppedUsage = 0;
  private readonly db: Database;
  private readonly pending: PendingStore;
  private readonly now: () => number;
  private readonly warnUnreachable: (error: unknown, message: string) => void;
  private readonly warnUsage: (error: unknown, message: string) => void;

  constructor(private readonly options: MergedHistoryOptions) {
    this.mode = options.mode;
    this.db = options.db;
    this.pending = options.pending;
    this.now = options.now ?? Date.now;
    this.warnUnreachable = throttledWarn(options.logger);
    this.warnUsage = throttledWarn(options.logger);
  }

  createConversation(owner: string, metadata: JsonObject, items: readonly NewItem[]) {
    return this.guard(() => this.pending.createConversation(owner, prefixedId('conv'), metadata, items.map(withId)));
  }

  getConversation(owner: string, id: string) {
    return this.guard(async () => (await this.visible(owner, id))?.row);
  }

  listConversations(owner: string, request: PageRequest) {
    return this.guard(async (): Promise<Page<ConversationRow>> => {
      pagePlan(request);
      let after: ConversationPosition | undefined;
      if (request.after !== undefined) {
        const pending = await this.pending.conversation(request.after);
        after = pending ? (pending.owner === owner ? pending : undefined) : await conversationPosition(this.db, owner, request.after);
        if (!after) return { data: [], hasMore: false };
      }
      const { order, limit } = request;
      const pending = await this.pending.conversations(owner, { order, limit: limit + 1, after });
      const stored = await listConversations(this.db, owner, { order, limit }, after);
      return mergePage(pending, stored, request, compareConversations);
    });
  }

  updateConversation(owner: string, id: string, metadata: JsonObject) {
    return this.guard(async () => {
      const found = await this.visible(owner, id);
      if (!found) return undefined;
      return this.change(pendingCopy(found), (q) => updateMetadata(q, owner, id, metadata, this.now()));
    });
  }

  deleteConversation(owner: string, id: string) {
    return this.guard(async () => {
      const found = await this.visible(owner, id);
      if (!found) return false;
      // Still pending but already deleted in the database: an earlier delete whose Redis step
      // failed. Its pending copy and the mark that stops appends are set now.
      return this.change(pendingCopy(found), (q) => deleteConversation(q, owner, id, this.now()), (deleted) => (deleted || found.pending ? id : undefined));
    });
  }

  appendItems(owner: string, conversationId: string, items: readonly NewItem[]) {
    return this.guard(async () => {
      if (items.length === 0) return (await this.visible(owner, conversationId)) ? [] : undefined;
      // Asked only when the pending store knows nothing of the conversation (first append in a while).
      const load = async () => {
        if (!(await this.visible(owner, conversationId))) return undefined;
        return { maxSeq: (await maxSeq(this.db, conversationId)) ?? 0 };
      };
      return this.pending.appendItems(owner, conversationId, items.map(withId), load);
    });
  }

  listItems(owner: string, conversationId: string, request: PageRequest) {
    return this.guard(async (): Promise<Page<ItemRow> | undefined> => {
      pagePlan(request);
      // The visibility check and the cursor's position concern different rows, so they run side
      // by side (each still pending first, database second); the page itself waits for both.
      const cursor = request.after;
      const [visible, after] = await Promise.all([
        this.visible(owner, conversationId),
        cursor === undefined ? undefined : this.itemPosition(conversationId, cursor),
      ]);
      if (!visible) return undefined;
      if (cursor !== undefined && !after) return { data: [], hasMore: false };
      const { order, limit } = request;
      const pending = await this.pending.items(conversationId, { order, limit: limit + 1, after });
      const stored = await listItemRows(this.db, conversationId, { order, limit }, after);
      return mergePage(pending, stored, request, compareItems);
    });
  }

  getItem(owner: string, conversationId: string, itemId: string) {
    return this.guard(async () => {
      if (!(await this.visible(owner, conversationId))) return undefined;
      return (await this.pending.item(conversationId, itemId)) ?? (await findItem(this.db, conversationId, itemId));
    });
  }

  deleteItem(owner: string, conversationId: string, itemId: string) {
    return this.guard(async () => {
      const found = await this.visible(owner, conversationId);
      if (!found) return false;
      const item = await this.pending.item(conversationId, itemId);
      // The store deletes through a join on the conversation, so a pending conversation goes in too.
      const entries: HistoryEntry[] = [...pendingCopy(found), ...(item ? [{ kind: 'item' as const, row: item }] : [])];
      return this.change(entries, (q) => deleteItem(q, owner, conversationId, itemId, this.now()));
    });
  }

  saveResponse(row: ResponseRow) {
    return this.guard(() => this.pending.saveResponse(row));
  }

  getResponse(owner: string, id: string) {
    return this.guard(async () => {
      const pending = await this.pending.response(id);
      if (pending) return pending.owner === owner ? pending : undefined;
      return getResponse(this.db, owner, id);
    });
  }

  deleteResponse(owner: string, id: string) {
    return this.guard(async () => {
      const pending = await this.pending.response(id);
      if (pending && pending.owner !== owner) return false;
      const entries: HistoryEntry[] = pending ? [{ kind: 'response', row: pending }] : [];
      return this.change(entries, (q) => deleteResponse(q, owner, id, this.now()));
    });
  }

  recordUsage(row: UsageRow): void {
    void Promise.resolve()
      .then(() => this.pending.recordUsage(row))
      .catch((error: unknown) => {
        this.droppedUsage += 1;
        const expected = error instanceof GatewayError && (error.code === 'history_backlog' || error.code === 'shutting_down');
        if (!expected) this.warnUsage(error, 'usage record dropped');
      });
  }

  stats(): HistoryStats {
    return { ...this.pending.stats(), droppedUsage: this.droppedUsage };
  }

  flushNow(): Promise<number> {
    return this.pending.flushNow();
  }

  drain(deadlineMs: number): Promise<boolean> {
    return this.pending.drain(deadlineMs);
  }

  async close(): Promise<void> {
    await this.pending.close();
    if (this.options.ownsDatabase) await this.db.close();
  }

  private async itemPosition(conversationId: string, itemId: string): Promise<ItemPosition | undefined> {
    return (await this.pending.item(conversationId, itemId)) ?? itemPosition(this.db, conversationId, itemId);
  }

  /** Pending first, then the database (see the top of this file for why in that order). */
  private async visible(owner: string, id: string): Promise<Visible | undefined> {
    const pending = await this.pending.conversation(id);
    if (pending) return pending.owner === owner ? { row: pending, pending: true } : undefined;
    const row = await getConversation(this.db, owner, id);
    return row && { row, pending: false };
  }

  /**
   * Applies a change in the database, first inserting the pending rows it touches (same
   * transaction), then drops their pending copies. `deleted` names a conversation the change
   * deleted, so appends stop accepting items for it.
   */
  private async change<T>(entries: HistoryEntry[], apply: (q: Queryable) => Promise<T>, deleted?: (result: T) => string | undefined): Promise<T> {
    const result = entries.length === 0
      ? await apply(this.db)
      : await this.db.transaction(async (tx) => {
        await writeEntries(tx, entries);
        return apply(tx);
      });
    const gone = deleted?.(result);
    if (entries.length > 0 || gone !== undefined) await this.pending.settle(entries, gone);
    return result;
  }

  /** Storage that cannot be reached becomes a 503 with Retry-After; anything else is rethrown. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const unreachable = error instanceof GatewayError ? error.code === 'history_unavailable' : isUnreachable(error);
      if (!unreachable) throw error;
      this.warnUnreachable(error instanceof GatewayError ? error.cause ?? error : error, 'history storage unreachable');
      throw error instanceof GatewayError ? error : historyUnavailable(this.options.retryMs, error);
    }
  }
}

function pendingCopy(found: Visible): HistoryEntry[] {
  return found.pending ? [{ kind: 'conversation', row: found.row }] : [];
}

const withId = (item: NewItem): PendingItem => ({ id: item.id ?? prefixedId('msg'), type: item.type, body: item.body });
