// The embedded mode's pending store: the hot buffer (MemoryWriteBuffer) plus in-memory indexes of
// what it holds, so reads see it at once. Entries leave the indexes when their batch committed,
// or when a change wrote them to the database early (settle).
//
// Seqs: appends to one conversation run one at a time, and a per-conversation state remembers
// the owner and the last seq given. The state must outlive the conversation's pending items (a
// pending item may be settled out of order, so the pending list alone cannot say the last seq);
// once none is pending, the database's max(seq) is exact again, so idle states may be evicted
// (least recently used first) beyond `stateCapacity`. While a state is kept, appends to its
// conversation need no database read at all, so they go on through a database outage.
import type { Database } from '../storage/database.js';
import type { ConversationPosition, ConversationRow, ItemPosition, ItemRow, JsonObject } from '../storage/conversation-store.js';
import type { ResponseRow } from '../storage/response-store.js';
import type { UsageRow } from '../storage/usage-store.js';
import { historyWriter, type HistoryEntry } from './history-writer.js';
import {
  compareConversations, compareItems, rangeOf,
  type LoadConversation, type PendingItem, type PendingRange, type PendingStore,
} from './pending-store.js';
import { MemoryWriteBuffer, type WriteBufferOptions } from './write-buffer.js';

export interface MemoryPendingOptions extends WriteBufferOptions {
  /** Conversation states kept beyond those with pending items (default 10,000). */
  stateCapacity?: number;
}

interface ConversationState {
  owner: string;
  lastSeq: number;
  deleted: boolean;
}

export class MemoryPendingStore implements PendingStore {
  private readonly conversationsById = new Map<string, ConversationRow>();
  private readonly conversationsByOwner = new Map<string, Set<string>>();
  /** Per conversation, its pending items by id, in seq order (appends are serialized). */
  private readonly itemsByConversation = new Map<string, Map<string, ItemRow>>();
  private readonly responses = new Map<string, ResponseRow>();
  /** Least recently used first (Map order), re-inserted on use. */
  private readonly states = new Map<string, ConversationState>();
  private readonly appending = new Map<string, Promise<unknown>>();
  private readonly buffer: MemoryWriteBuffer<HistoryEntry>;
  private lastWriteError: unknown;

  constructor(
    db: Database,
    private readonly options: MemoryPendingOptions,
    onWriteError: (error: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    const writer = historyWriter(db);
    this.buffer = new MemoryWriteBuffer<HistoryEntry>({
      write: async (batch) => {
        await writer.write(batch);
        this.forget(batch);
      },
    }, options, (error) => {
      this.lastWriteError = error;
      onWriteError(error);
    });
  }

  async createConversation(owner: string, id: string, metadata: JsonObject, items: readonly PendingItem[]) {
    const now = this.now();
    const conversation: ConversationRow = { id, owner, metadata, createdAt: now, updatedAt: now };
    const rows = items.map((item, i) => itemRow(id, i + 1, item, now));
    this.buffer.append([{ kind: 'conversation', row: conversation }, ...rows.map((row) => ({ kind: 'item' as const, row }))]);
    this.conversationsById.set(id, conversation);
    setOf(this.conversationsByOwner, owner).add(id);
    this.index(id, rows);
    this.keepState(id, { owner, lastSeq: rows.length, deleted: false });
    return { conversation, items: rows };
  }

  async appendItems(owner: string, conversationId: string, items: readonly PendingItem[], load: LoadConversation): Promise<ItemRow[] | undefined> {
    const previous = this.appending.get(conversationId) ?? Promise.resolve();
    const turn = previous.catch(() => {}).then(async () => {
      let state = this.useState(conversationId);
      if (!state) {
        const loaded = await load();
        if (!loaded) return undefined;
        // A delete may have left a marker meanwhile; it wins.
        state = this.useState(conversationId) ?? { owner, lastSeq: loaded.maxSeq, deleted: false };
        this.keepState(conversationId, state);
      }
      if (state.deleted || state.owner !== owner) return undefined;
      const now = this.now();
      const rows = items.map((item, i) => itemRow(conversationId, state.lastSeq + 1 + i, item, now));
      this.buffer.append(rows.map((row) => ({ kind: 'item' as const, row }))); // throws when full: nothing taken
      state.lastSeq += rows.length;
      this.index(conversationId, rows);
      return rows;
    });
    this.appending.set(conversationId, turn);
    try {
      return await turn;
    } finally {
      if (this.appending.get(conversationId) === turn) this.appending.delete(conversationId);
    }
  }

  async saveResponse(row: ResponseRow): Promise<void> {
    this.buffer.append([{ kind: 'response', row }]);
    this.responses.set(row.id, row);
  }

  async recordUsage(row: UsageRow): Promise<void> {
    this.buffer.append([{ kind: 'usage', row }]);
  }

  async conversation(id: string) {
    return this.conversationsById.get(id);
  }

  async conversations(owner: string, range: PendingRange<ConversationPosition>) {
    const ids = this.conversationsByOwner.get(owner) ?? new Set<string>();
    const rows = [...ids].map((id) => this.conversationsById.get(id)).filter((row): row is ConversationRow => row !== undefined);
    return rangeOf(rows, range, compareConversations);
  }

  async items(conversationId: string, range: PendingRange<ItemPosition>) {
    return rangeOf(this.itemsByConversation.get(conversationId)?.values() ?? [], range, compareItems);
  }

  async item(conversationId: string, itemId: string) {
    return this.itemsByConversation.get(conversationId)?.get(itemId);
  }

  async response(id: string) {
    return this.responses.get(id);
  }

  async settle(entries: readonly HistoryEntry[], deletedConversation?: string): Promise<void> {
    this.forget(entries);
    if (deletedConversation !== undefined) {
      const state = this.useState(deletedConversation);
      if (state) state.deleted = true;
      else this.keepState(deletedConversation, { owner: '', lastSeq: 0, deleted: true });
    }
  }

  async flushNow(): Promise<number> {
    let written = 0;
    while (this.buffer.stats().buffered > 0) {
      const before = this.buffer.stats();
      await this.buffer.writeOnce();
      const after = this.buffer.stats();
      if (after.failedWrites > before.failedWrites) throw this.lastWriteError;
      written += after.written - before.written;
    }
    return written;
  }

  stats() {
    const { buffered, batches, written, failedWrites } = this.buffer.stats();
    return { pending: buffered, batches, written, failedWrites };
  }

  drain(deadlineMs: number): Promise<boolean> {
    return this.buffer.drain(deadlineMs);
  }

  async close(): Promise<void> {}

  private index(conversationId: string, rows: readonly ItemRow[]): void {
    if (rows.length === 0) return;
    let pending = this.itemsByConversation.get(conversationId);
    if (!pending) this.itemsByConversation.set(conversationId, (pending = new Map()));
    for (const row of rows) pending.set(row.id, row);
  }

  /** Drops the pending copies of rows now in the database. */
  private forget(entries: readonly HistoryEntry[]): void {
    for (const entry of entries) {
      if (entry.kind === 'conversation') {
        if (this.conversationsById.delete(entry.row.id)) {
          const owned = this.conversationsByOwner.get(entry.row.owner);
          owned?.delete(entry.row.id);
          if (owned?.size === 0) this.conversationsByOwner.delete(entry.row.owner);
        }
      } else if (entry.kind === 'item') {
        const pending = this.itemsByConversation.get(entry.row.conversationId);
        pending?.delete(entry.row.id);
        if (pending?.size === 0) this.itemsByConversation.delete(entry.row.conversationId);
      } else if (entry.kind === 'response') {
        this.responses.delete(entry.row.id);
      }
    }
  }

  /** The conversation's state, marked as just used. */
  private useState(conversationId: string): ConversationState | undefined {
    const state = this.states.get(conversationId);
    if (state) {
      this.states.delete(conversationId);
      this.states.set(conversationId, state);
    }
    return state;
  }

  /** Stores a state, evicting the least recently used idle ones beyond capacity. */
  private keepState(conversationId: string, state: ConversationState): void {
    this.states.delete(conversationId);
    this.states.set(conversationId, state);
    let excess = this.states.size - (this.options.stateCapacity ?? 10_000);
    // A bounded number of steps per call: during a database outage every state may have pending
    // items, and scanning them all on each create would stall the event loop (O(n) per call).
    let steps = EVICTION_STEPS;
    for (const [id, kept] of this.states) {
      if (excess <= 0 || steps-- <= 0) break;
      // Not while items are pending (the database's max(seq) would be short) or an append runs:
      // such a state goes to the back of the line, so the next scan starts with others.
      if (this.itemsByConversation.has(id) || this.appending.has(id)) {
        this.states.delete(id);
        this.states.set(id, kept);
        continue;
      }
      this.states.delete(id);
      excess -= 1;
    }
  }
}

/** States looked at per eviction pass, at most. */
const EVICTION_STEPS = 64;

function itemRow(conversationId: string, seq: number, item: PendingItem, now: number): ItemRow {
  return { id: item.id, conversationId, seq, type: item.type, body: item.body, createdAt: now };
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}
