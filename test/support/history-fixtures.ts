// Rows and readers for the History tests: turns with readable texts, owners and ids unique to a
// test (a suite's tests share one database), and a walker that follows cursors to the end.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { History, NewItem, Page, ResponseRow } from '../../src/history/history.js';

export const turn = (n: number, id?: string): NewItem => ({
  ...(id ? { id } : {}),
  type: 'message',
  body: { role: n % 2 ? 'user' : 'assistant', content: [{ type: 'input_text', text: `turn ${n}` }] },
});
export const texts = (rows: ReadonlyArray<{ body: unknown }>) => rows.map((r) => (r.body as { content: Array<{ text: string }> }).content[0]!.text);
export const turns = (...ns: number[]) => ns.map((n) => `turn ${n}`);
/** An owner (and ids) of this test alone: tests in a suite share one database. */
export const unique = (name: string) => `${name}_${randomBytes(4).toString('hex')}`;

/** Follows `after` cursors to the end; `between` runs after the first page (a flush mid-walk). */
export async function walk<T extends { id: string }>(page: (after?: string) => Promise<Page<T> | undefined>, between?: () => Promise<void>) {
  const rows: T[] = [];
  let after: string | undefined;
  for (let n = 0; n < 200; n++) {
    const current = await page(after);
    assert.ok(current, 'visible');
    rows.push(...current.data);
    if (!current.hasMore) return rows;
    assert.equal(current.data.length > 0, true, 'hasMore with an empty page');
    after = current.data.at(-1)!.id;
    if (n === 0) await between?.();
  }
  assert.fail('too many pages');
}

export const itemTexts = async (h: History, owner: string, id: string, order: 'asc' | 'desc', limit: number, between?: () => Promise<void>) =>
  texts(await walk((after) => h.listItems(owner, id, { after, limit, order }), between));

export const response = (owner: string, extra: Partial<ResponseRow> = {}): ResponseRow => {
  const id = unique('resp');
  return {
    id, owner, conversationId: null, previousResponseId: null, model: 'sim-chat', status: 'completed',
    body: { id, object: 'response', output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi', annotations: [] }] }] },
    inputItems: [{ type: 'message', role: 'user', content: 'hello' }], createdAt: 1_000, ...extra,
  };
};
