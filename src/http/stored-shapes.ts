// Stored rows as the API shows them: OpenAI's conversation and item objects. Times are stored in
// epoch milliseconds and shown in seconds, as OpenAI's `created_at`.
import type { ConversationRow, ItemRow } from '../history/history.js';

export function conversationResource(row: ConversationRow) {
  return { id: row.id, object: 'conversation' as const, created_at: Math.floor(row.createdAt / 1000), metadata: row.metadata };
}

/** An item is its stored body with its id; the id column is the truth. */
export function itemResource(row: ItemRow): { id: string } & Record<string, unknown> {
  return { id: row.id, ...row.body };
}
