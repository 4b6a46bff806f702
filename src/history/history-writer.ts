// What the hot buffer holds, and how one batch of it is written: one transaction, the stores
// called once each in a fixed order (conversations, items, responses, usage), each inserting its
// rows sorted, so concurrent flushers take their locks in the same order and never deadlock.
// Every insert skips ids already stored, so a batch replayed (a flusher that died after its
// commit, a pending row written early by a change) writes nothing twice.
import type { Database, Queryable } from '../storage/database.js';
import { insertConversations, insertItems, type ConversationRow, type ItemRow } from '../storage/conversation-store.js';
import { insertResponses, type ResponseRow } from '../storage/response-store.js';
import { insertUsage, type UsageRow } from '../storage/usage-store.js';
import type { BatchWriter } from './write-buffer.js';

export type HistoryEntry =
  | { kind: 'conversation'; row: ConversationRow }
  | { kind: 'item'; row: ItemRow }
  | { kind: 'response'; row: ResponseRow }
  | { kind: 'usage'; row: UsageRow };

export const ENTRY_KINDS: ReadonlySet<string> = new Set<HistoryEntry['kind']>(['conversation', 'item', 'response', 'usage']);

/** Writes `batch` inside the caller's transaction. */
export async function writeEntries(tx: Queryable, batch: readonly HistoryEntry[]): Promise<void> {
  const conversations: ConversationRow[] = [];
  const items: ItemRow[] = [];
  const responses: ResponseRow[] = [];
  const usage: UsageRow[] = [];
  for (const entry of batch) {
    if (entry.kind === 'conversation') conversations.push(entry.row);
    else if (entry.kind === 'item') items.push(entry.row);
    else if (entry.kind === 'response') responses.push(entry.row);
    else usage.push(entry.row);
  }
  if (conversations.length > 0) await insertConversations(tx, conversations);
  if (items.length > 0) await insertItems(tx, items);
  if (responses.length > 0) await insertResponses(tx, responses);
  if (usage.length > 0) await insertUsage(tx, usage);
}

export function historyWriter(db: Database): BatchWriter<HistoryEntry> {
  return { write: (batch) => db.transaction((tx) => writeEntries(tx, batch)) };
}
