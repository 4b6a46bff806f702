// The scale-out mode's pending store: everything hot lives in Redis (keys: redis-keys.ts), so any
// node sees every node's pending writes at once, and each write is one script (redis-scripts.ts):
// the stream entry, the read indexes and the seq counter change together or not at all.
//
// Seqs: a conversation's state hash holds its owner and last seq. An append finding no state
// (first use, or unused for stateTtlMs) reads the conversation and max(seq) from the database
// and calls again; the script then takes the larger of that and any seq still pending. This
// assumes no append takes stateTtlMs (default a day) between that read and its script, and that
// Redis never evicts keys (maxmemory-policy noeviction: the stream itself must not be evicted).
//
// Any Redis failure (down, timed out) becomes a 503 history_unavailable: a caller never hangs.
import { closeRedis } from '../core/close-redis.js';
import { shuttingDown } from '../core/errors.js';
import type { Redis } from 'ioredis';
import type { ConversationPosition, ConversationRow, ItemPosition, ItemRow, JsonObject } from '../storage/conversation-store.js';
import type { ResponseRow } from '../storage/response-store.js';
import type { UsageRow } from '../storage/usage-store.js';
import { historyBacklog, historyUnavailable } from './history-errors.js';
import type { HistoryEntry } from './history-writer.js';
import type { FlusherPool } from './history-flushers.js';
import type { LoadConversation, PendingItem, PendingRange, PendingStore } from './pending-store.js';
import { indexRemovals, ownerMember, type HistoryKeys } from './redis-keys.js';
import type { HistoryScripts, ScriptReply } from './redis-scripts.js';

export interface RedisPendingOptions {
  redis: Redis;
  scripts: HistoryScripts;
  keys: HistoryKeys;
  flushers: FlusherPool;
  /** The stream's bound: beyond, writes are refused with 503 history_backlog. */
  maxPending: number;
  retryMs: number;
  stateTtlMs: number;
}

export class RedisPendingStore implements PendingStore {
  private stopped = false;
  private readonly redis: Redis;
  private readonly keys: HistoryKeys;

  constructor(private readonly options: RedisPendingOptions) {
    this.redis = options.redis;
    this.keys = options.keys;
  }

  async createConversation(owner: string, id: string, metadata: JsonObject, items: readonly PendingItem[]) {
    const k = this.keys;
    const reply = await this.run(() => this.options.scripts.create(
      [k.stream, k.state(id), k.conversation(id), k.owner(owner), k.items(id), k.itemRows(id)],
      [this.options.maxPending, this.options.stateTtlMs, owner, id, JSON.stringify({ id, owner, metadata }), ...itemArgs(id, items)],
    ));
    const createdAt = Number(reply[1]);
    this.accepted(reply, 2);
    return {
      conversation: { id, owner, metadata, createdAt, updatedAt: createdAt } satisfies ConversationRow,
      items: items.map((item, i) => itemRow(id, i + 1, item, createdAt)),
    };
  }

  async appendItems(owner: string, conversationId: string, items: readonly PendingItem[], load: LoadConversation): Promise<ItemRow[] | undefined> {
    const k = this.keys;
    const keys = [k.stream, k.state(conversationId), k.items(conversationId), k.itemRows(conversationId)];
    let storedMaxSeq = '';
    for (;;) {
      const args = [this.options.maxPending, this.options.stateTtlMs, owner, storedMaxSeq, ...itemArgs(conversationId, items)];
      const reply = await this.run(() => this.options.scripts.append(keys, args));
      if (reply[0] === 'NOTFOUND') return undefined;
      if (reply[0] === 'UNKNOWN' && storedMaxSeq === '') {
        const loaded = await load();
        if (!loaded) return undefined;
        storedMaxSeq = String(loaded.maxSeq);
        continue;
      }
      this.accepted(reply, 3);
      const [first, createdAt] = [Number(reply[1]), Number(reply[2])];
      return items.map((item, i) => itemRow(conversationId, first + i, item, createdAt));
    }
  }

  async saveResponse(row: ResponseRow): Promise<void> {
    const reply = await this.run(() => this.options.scripts.entry([this.keys.stream, this.keys.response(row.id)], [this.options.maxPending, 'response', JSON.stringify(row)]));
    this.accepted(reply, 1);
  }

  async recordUsage(row: UsageRow): Promise<void> {
    const reply = await this.run(() => this.options.scripts.entry([this.keys.stream], [this.options.maxPending, 'usage', JSON.stringify(row)]));
    this.accepted(reply, 1);
  }

  async conversation(id: string) {
    return parse<ConversationRow>(await this.call(() => this.redis.get(this.keys.conversation(id))));
  }

  async conversations(owner: string, range: PendingRange<ConversationPosition>) {
    const member = range.after && ownerMember(range.after.createdAt, range.after.id);
    // BYLEX bounds: '(' excludes, '-' and '+' are the ends; with REV the first bound is the upper.
    const bounds = range.order === 'asc' ? [member ? `(${member}` : '-', '+'] : [member ? `(${member}` : '+', '-', 'REV'];
    const members = (await this.call(() => this.redis.call('ZRANGE', this.keys.owner(owner), ...bounds.slice(0, 2), 'BYLEX', ...bounds.slice(2), 'LIMIT', 0, range.limit))) as string[];
    if (members.length === 0) return [];
    const ids = members.map((m) => m.slice(m.indexOf(':') + 1));
    const rows = await this.call(() => this.redis.mget(ids.map((id) => this.keys.conversation(id))));
    // A row flushed between the two reads is gone here; the database read that follows has it.
    return rows.map((json) => parse<ConversationRow>(json)).filter((row): row is ConversationRow => row?.owner === owner);
  }

  async items(conversationId: string, range: PendingRange<ItemPosition>) {
    const seq = range.after?.seq;
    const bounds = range.order === 'asc' ? [seq === undefined ? '-inf' : `(${seq}`, '+inf'] : [seq === undefined ? '+inf' : `(${seq}`, '-inf', 'REV'];
    const ids = (await this.call(() => this.redis.call('ZRANGE', this.keys.items(conversationId), ...bounds.slice(0, 2), 'BYSCORE', ...bounds.slice(2), 'LIMIT', 0, range.limit))) as string[];
    if (ids.length === 0) return [];
    const rows = await this.call(() => this.redis.hmget(this.keys.itemRows(conversationId), ...ids));
    return rows.map((json) => parse<ItemRow>(json)).filter((row): row is ItemRow => row !== undefined);
  }

  async item(conversationId: string, itemId: string) {
    return parse<ItemRow>(await this.call(() => this.redis.hget(this.keys.itemRows(conversationId), itemId)));
  }

  async response(id: string) {
    return parse<ResponseRow>(await this.call(() => this.redis.get(this.keys.response(id))));
  }

  async settle(entries: readonly HistoryEntry[], deletedConversation?: string): Promise<void> {
    const { keys, ops } = indexRemovals(this.keys, entries, deletedConversation);
    this.options.flushers.observedLength = await this.call(() => this.options.scripts.settle(keys, [this.keys.group, this.options.stateTtlMs, 0, ...ops]));
  }

  flushNow(): Promise<number> {
    return this.options.flushers.flushNow();
  }

  stats() {
    return { pending: this.options.flushers.observedLength, ...this.options.flushers.stats() };
  }

  drain(deadlineMs: number): Promise<boolean> {
    this.stopped = true;
    return this.options.flushers.drain(deadlineMs);
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.options.flushers.close();
    await closeRedis(this.redis);
  }

  /** A write script, refused once draining; 'BACKLOG' becomes the 503 that sheds load. */
  private async run(script: () => Promise<ScriptReply>): Promise<ScriptReply> {
    if (this.stopped) throw shuttingDown();
    const reply = await this.call(script);
    if (reply[0] === 'BACKLOG') {
      this.options.flushers.observedLength = Number(reply[1]);
      throw historyBacklog(this.options.retryMs);
    }
    return reply;
  }

  /** Notes the stream length a script reported at `at`, checking it said OK. */
  private accepted(reply: ScriptReply, at: number): void {
    if (reply[0] !== 'OK') throw new Error(`unexpected history script reply ${String(reply[0]).slice(0, 20)}`);
    this.options.flushers.observedLength = Number(reply[at]);
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw historyUnavailable(this.options.retryMs, error);
    }
  }
}

/** Per item: its id, and its JSON without seq and time (the script adds them). */
function itemArgs(conversationId: string, items: readonly PendingItem[]): string[] {
  return items.flatMap((item) => [item.id, JSON.stringify({ id: item.id, conversationId, type: item.type, body: item.body })]);
}

function itemRow(conversationId: string, seq: number, item: PendingItem, createdAt: number): ItemRow {
  return { id: item.id, conversationId, seq, type: item.type, body: item.body, createdAt };
}

function parse<T>(json: string | null): T | undefined {
  return json === null ? undefined : (JSON.parse(json) as T);
}
