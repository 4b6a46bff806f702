// The client side of the crash and drain tests: plain fetch calls to the gateway's stored-state
// API, a ledger of what it answered with success (and only that, with the ids it returned), and
// the audit that compares the ledger with what the database holds.
import type { Database } from '../../src/storage/database.js';

export interface Reply {
  status: number;
  body: unknown;
}

/** One call; a refused connection or a reset rejects, as it would for any client. */
export async function call(baseUrl: string, method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** What the gateway returns for an item: the stored body with its id. */
export interface ItemResource {
  id: string;
  content?: Array<{ text?: string }>;
}

export const itemText = (item: ItemResource): string | undefined => item.content?.[0]?.text;

/** A user message carrying `text`, as POST /v1/conversations/{id}/items takes it. */
export const message = (text: string) => ({ type: 'message', role: 'user', content: text });

export async function newSession(baseUrl: string): Promise<string | undefined> {
  const reply = await call(baseUrl, 'POST', '/v1/sessions');
  return reply.status === 200 ? (reply.body as { token: string }).token : undefined;
}

/** Every item of a conversation through the API, oldest first, `pageSize` per page. */
export async function listAllItems(baseUrl: string, token: string, conversationId: string, pageSize = 10): Promise<ItemResource[]> {
  const all: ItemResource[] = [];
  let after = '';
  for (;;) {
    const query = `order=asc&limit=${pageSize}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const reply = await call(baseUrl, 'GET', `/v1/conversations/${conversationId}/items?${query}`, token);
    if (reply.status !== 200) throw new Error(`listing ${conversationId}: ${reply.status} ${JSON.stringify(reply.body)}`);
    const page = reply.body as { data: ItemResource[]; has_more: boolean; last_id: string };
    all.push(...page.data);
    if (!page.has_more) return all;
    after = page.last_id;
  }
}

export interface LedgerItem {
  id: string;
  conversationId: string;
  text: string;
}

/** Items and conversations the gateway answered 200 for; conversations map to their owner's token. */
export class Ledger {
  readonly items = new Map<string, LedgerItem>();
  readonly conversations = new Map<string, string>();

  /** Records a 200 reply to an add-items call, checking it returned what was sent. */
  addReply(conversationId: string, sent: readonly string[], reply: Reply): void {
    const data = (reply.body as { data: ItemResource[] }).data;
    const texts = data.map(itemText);
    if (JSON.stringify(texts) !== JSON.stringify(sent)) throw new Error(`added ${JSON.stringify(sent)}, the reply shows ${JSON.stringify(texts)}`);
    data.forEach((item, i) => this.items.set(item.id, { id: item.id, conversationId, text: sent[i]! }));
  }
}

export interface StoredItem {
  id: string;
  conversationId: string;
  seq: number;
  text: string | null;
}

export async function storedItems(db: Database): Promise<StoredItem[]> {
  return db.query<StoredItem>(`SELECT id, conversation_id AS "conversationId", seq, body->'content'->0->>'text' AS text
    FROM conversation_items ORDER BY conversation_id, seq, id`);
}

export interface Audit {
  /** Ledger items with no row, or a row in another conversation or with another text. */
  missing: string[];
  misplaced: string[];
  /** Texts stored under more than one id (one request written twice). */
  duplicatedTexts: string[];
  /** Conversations where two rows share a seq, or whose seqs are not 1..n. */
  seqProblems: string[];
  /** Rows with `prefix` text the ledger does not hold: requests whose success the client never heard. */
  notInLedger: number;
  /** Ledger conversations missing from the conversations table, and items whose conversation is missing. */
  missingConversations: string[];
  orphanItems: number;
}

/** Compares the ledger with the database: every ledger item stored exactly once, in place, in order. */
export async function audit(db: Database, ledger: Ledger, prefix: string): Promise<Audit> {
  const rows = await storedItems(db);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const result: Audit = { missing: [], misplaced: [], duplicatedTexts: [], seqProblems: [], notInLedger: 0, missingConversations: [], orphanItems: 0 };
  for (const item of ledger.items.values()) {
    const row = byId.get(item.id);
    if (!row) result.missing.push(item.id);
    else if (row.conversationId !== item.conversationId || row.text !== item.text) result.misplaced.push(item.id);
  }
  const idsByText = new Map<string, number>();
  const seqs = new Map<string, number[]>();
  for (const row of rows) {
    if (row.text !== null) idsByText.set(row.text, (idsByText.get(row.text) ?? 0) + 1);
    if (row.text?.startsWith(prefix) && !ledger.items.has(row.id)) result.notInLedger += 1;
    seqs.set(row.conversationId, [...(seqs.get(row.conversationId) ?? []), row.seq]);
  }
  for (const [text, count] of idsByText) if (count > 1) result.duplicatedTexts.push(text);
  for (const [conversationId, list] of seqs) {
    // Rows come ordered by seq: 1..n exactly, no repeat and no gap.
    if (list.some((seq, i) => seq !== i + 1)) result.seqProblems.push(`${conversationId}: ${list.join(',')}`);
  }
  const conversations = new Set((await db.query<{ id: string }>('SELECT id FROM conversations')).map((row) => row.id));
  for (const id of ledger.conversations.keys()) if (!conversations.has(id)) result.missingConversations.push(id);
  result.orphanItems = rows.filter((row) => !conversations.has(row.conversationId)).length;
  return result;
}

/** The audit's failures, empty when the database matches the ledger. */
export function auditFailures(found: Audit): string[] {
  const failures: string[] = [];
  const add = (what: string, list: readonly string[]) => {
    if (list.length > 0) failures.push(`${list.length} ${what}: ${list.slice(0, 5).join(' | ')}`);
  };
  add('ledger items missing from the database', found.missing);
  add('ledger items stored in another conversation or with another text', found.misplaced);
  add('texts stored under two ids', found.duplicatedTexts);
  add('conversations whose seqs are not 1..n', found.seqProblems);
  add('ledger conversations missing from the database', found.missingConversations);
  if (found.orphanItems > 0) failures.push(`${found.orphanItems} items whose conversation is not stored`);
  return failures;
}
