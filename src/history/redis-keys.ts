// Where the scale-out history keeps its hot state in Redis. Every key starts with the stream's
// key (storage.stream_key, say P), so nodes that share the stream share everything else:
//
//   P                     the stream: one entry per row, fields k (kind) and d (the row's JSON);
//                         an entry is deleted once its batch is committed, so XLEN is the backlog
//   P:state:<conv>        hash {owner, seq, deleted}: who may append and the last seq given;
//                         expires after stateTtlMs unused (then rebuilt from the database)
//   P:conv:<conv>         a pending conversation's row (JSON)
//   P:owner:<owner>       sorted set, all scores 0, of "<createdAt, 16 digits>:<conv>" for the
//                         owner's pending conversations: lexical order is (createdAt, id) order
//   P:items:<conv>        sorted set of pending item ids, scored by seq
//   P:item:<conv>         hash item id -> the pending item's row (JSON)
//   P:resp:<response>     a pending response's row (JSON)
//
// The scripts (redis-scripts.ts) get every key they touch through KEYS. For Redis Cluster, put
// the stream key in braces ({floodgate:history}): all keys then share its hash slot.
import type { HistoryEntry } from './history-writer.js';

export interface HistoryKeys {
  stream: string;
  /** The consumer group every flusher of this stream joins. */
  group: string;
  state(conversationId: string): string;
  conversation(id: string): string;
  owner(owner: string): string;
  items(conversationId: string): string;
  itemRows(conversationId: string): string;
  response(id: string): string;
}

export function historyKeys(stream: string): HistoryKeys {
  return {
    stream,
    group: 'flushers',
    state: (id) => `${stream}:state:${id}`,
    conversation: (id) => `${stream}:conv:${id}`,
    owner: (owner) => `${stream}:owner:${owner}`,
    items: (id) => `${stream}:items:${id}`,
    itemRows: (id) => `${stream}:item:${id}`,
    response: (id) => `${stream}:resp:${id}`,
  };
}

/** A conversation's member in its owner's index; fixed width, so lexical order is time order. */
export function ownerMember(createdAt: number, id: string): string {
  return `${String(createdAt).padStart(16, '0')}:${id}`;
}

/** The removals a committed (or settled) set of entries makes, as the settle script takes them. */
export interface IndexRemovals {
  /** KEYS for the script; the stream first. */
  keys: string[];
  /** Triples: operation, 1-based index into keys, argument. */
  ops: Array<string | number>;
}

/**
 * What to remove from the pending indexes once `entries` are in the database: each row's key or
 * member, and for items, the state's seq raised to at least the highest removed (see
 * redis-scripts.ts, SETTLE, for why). `deletedConversation` marks that conversation's state.
 */
export function indexRemovals(keys: HistoryKeys, entries: readonly HistoryEntry[], deletedConversation?: string): IndexRemovals {
  const list = [keys.stream];
  const positions = new Map<string, number>([[keys.stream, 1]]);
  const at = (key: string): number => {
    let position = positions.get(key);
    if (position === undefined) {
      list.push(key);
      positions.set(key, (position = list.length));
    }
    return position;
  };
  const ops: Array<string | number> = [];
  const highestSeq = new Map<string, number>();
  for (const entry of entries) {
    if (entry.kind === 'conversation') {
      ops.push('del', at(keys.conversation(entry.row.id)), '');
      ops.push('zrem', at(keys.owner(entry.row.owner)), ownerMember(entry.row.createdAt, entry.row.id));
    } else if (entry.kind === 'item') {
      const { conversationId, id, seq } = entry.row;
      ops.push('zrem', at(keys.items(conversationId)), id);
      ops.push('hdel', at(keys.itemRows(conversationId)), id);
      highestSeq.set(conversationId, Math.max(highestSeq.get(conversationId) ?? 0, seq));
    } else if (entry.kind === 'response') {
      ops.push('del', at(keys.response(entry.row.id)), '');
    }
  }
  for (const [conversationId, seq] of highestSeq) ops.push('raise', at(keys.state(conversationId)), seq);
  if (deletedConversation !== undefined) ops.push('deleted', at(keys.state(deletedConversation)), '');
  return { keys: list, ops };
}
