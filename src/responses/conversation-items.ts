// Items for the Conversations API (create with items, add items): the same items `input` takes,
// validated the same way, in their stored form. The id travels beside the body because the
// store's id column is the truth (see history/history.ts NewItem).
import { arrayAt, invalidValue, missingParameter } from './fields.js';
import { parseInputItem } from './input-items.js';
import { normalizeItem, withoutId } from './items.js';
import type { InputItem } from './types.js';

/** OpenAI adds at most 20 items to a conversation per call. */
export const MAX_ITEMS_PER_CALL = 20;

export interface ConversationItem {
  id: string;
  type: InputItem['type'];
  /** The item without its id. */
  body: Record<string, unknown>;
}

export function parseConversationItems(value: unknown, param: string): ConversationItem[] {
  if (value === undefined || value === null) throw missingParameter(param);
  const raw = arrayAt(value, param);
  if (raw.length > MAX_ITEMS_PER_CALL) {
    throw invalidValue(param, `Invalid '${param}': array too long. Expected an array with maximum length ${MAX_ITEMS_PER_CALL}, but got an array with length ${raw.length} instead.`);
  }
  return raw.map((item, i) => {
    // New items get ids made here, as in a response's input (see normalizeInput).
    const { id, ...body } = normalizeItem(withoutId(parseInputItem(item, `${param}[${i}]`)));
    return { id, type: body.type, body };
  });
}

/**
 * Items read back from storage (a conversation's rows, a stored response's input and output), as
 * typed items. They were validated on the way in; reading them through the same parser keeps a
 * row written by an older version, or edited by hand, from reaching an upstream unchecked.
 */
export function parseStoredItems(rows: readonly unknown[], param = 'items'): InputItem[] {
  return rows.map((row, i) => normalizeItem(parseInputItem(row, `${param}[${i}]`)));
}
