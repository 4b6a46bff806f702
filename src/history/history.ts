// What the HTTP layer sees of stored state: conversations and their items, stored responses and
// usage records, every read and change scoped by owner (an API key's or a session's identity).
// Two implementations share this contract:
// - embedded: writes are accepted into an in-memory buffer, flushed to PGlite/PostgreSQL in
//   batches, drained on shutdown;
// - scale-out: writes are appended to a Redis Stream (durable before the caller hears success),
//   flushers in a consumer group write batches to PostgreSQL and acknowledge after the commit.
// In both, reads merge the database with what is still waiting to be flushed, so a caller sees
// everything it was told succeeded, in order, at once. Another owner's data reads as missing.
import type { ConversationRow, ItemRow, JsonObject, Page, PageRequest } from '../storage/conversation-store.js';
import type { ResponseRow } from '../storage/response-store.js';
import type { UsageRow } from '../storage/usage-store.js';

export type { ConversationRow, ItemRow, JsonObject, Page, PageRequest, ResponseRow, UsageRow };

export interface NewItem {
  /** OpenAI-style item id (msg_..., fc_...); generated when absent. */
  id?: string;
  type: string;
  /** The item as the API shows it (without id; the id column is the truth). */
  body: JsonObject;
}

export interface HistoryStats {
  /** Entries accepted but not yet committed (scale-out: the shared stream's length, as last seen). */
  pending: number;
  /** Committed transactions and the entries they carried, since start (this process). */
  batches: number;
  written: number;
  failedWrites: number;
  /** Usage records refused (buffer full, storage unreachable, shutting down): counted, not retried. */
  droppedUsage: number;
}

export interface History {
  readonly mode: 'embedded' | 'scale-out';

  /** A new conversation with its initial items, accepted in one step (all or nothing). */
  createConversation(owner: string, metadata: JsonObject, items: readonly NewItem[]): Promise<{ conversation: ConversationRow; items: ItemRow[] }>;
  getConversation(owner: string, id: string): Promise<ConversationRow | undefined>;
  /** The owner's conversations, `desc` = newest first, pending ones included. */
  listConversations(owner: string, page: PageRequest): Promise<Page<ConversationRow>>;
  /** Replaces the metadata; undefined when not visible. */
  updateConversation(owner: string, id: string, metadata: JsonObject): Promise<ConversationRow | undefined>;
  deleteConversation(owner: string, id: string): Promise<boolean>;

  /** Appends after the conversation's last item; undefined when the conversation is not visible. */
  appendItems(owner: string, conversationId: string, items: readonly NewItem[]): Promise<ItemRow[] | undefined>;
  /** Undefined when the conversation is not visible (404), an empty page when it has no items. */
  listItems(owner: string, conversationId: string, page: PageRequest): Promise<Page<ItemRow> | undefined>;
  getItem(owner: string, conversationId: string, itemId: string): Promise<ItemRow | undefined>;
  deleteItem(owner: string, conversationId: string, itemId: string): Promise<boolean>;

  /** Stores a response (the Responses API's store: true). */
  saveResponse(row: ResponseRow): Promise<void>;
  getResponse(owner: string, id: string): Promise<ResponseRow | undefined>;
  deleteResponse(owner: string, id: string): Promise<boolean>;

  /** Records one request's usage off the hot path: never waits for the database, never throws. */
  recordUsage(row: UsageRow): void;

  stats(): HistoryStats;
  /**
   * Tests and tools: writes what is pending now (without stopping) and resolves with how many
   * entries it wrote. Scale-out: only entries no running flusher holds; with flushers = 0, all.
   */
  flushNow?(): Promise<number>;
  /** Stops accepting writes and writes everything pending; true when nothing is left. */
  drain(deadlineMs: number): Promise<boolean>;
  /** Releases connections (after drain). */
  close(): Promise<void>;
}
