// What the hot buffer holds, and how one batch of it is written: one transaction, the stores
// called once each in a fixed order (conversations, items, usage), each inserting its rows
// sorted, so concurrent flushers take their locks in the same order and never deadlock.
import type { Database } from '../storage/database.js';
import { insertConversations, insertItems, type ConversationRow, type ItemRow } from '../storage/conversation-store.js';
import { insertUsage, type UsageRow } from '../storage/usage-store.js';
import type { BatchWriter } from './write-buffer.js';

export type HistoryEntry =
  | { kind: 'conversation'; row: ConversationRow }
  | { kind: 'item'; row: ItemRow }
  | { kind: 'usage'; row: UsageRow };

export function historyWriter(db: Database): BatchWriter<HistoryEntry> {
  return {
    write: (batch) =>
      db.transaction(async (tx) => {
        const conversations: ConversationRow[] = [];
        const items: ItemRow[] = [];
        const usage: UsageRow[] = [];
        for (const entry of batch) {
          if (entry.kind === 'conversation') conversations.push(entry.row);
          else if (entry.kind === 'item') items.push(entry.row);
          else usage.push(entry.row);
        }
        if (conversations.length > 0) await insertConversations(tx, conversations);
        if (items.length > 0) await insertItems(tx, items);
        if (usage.length > 0) await insertUsage(tx, usage);
      }),
  };
}
