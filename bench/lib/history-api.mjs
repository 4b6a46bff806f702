// The public API calls the history benchmark makes outside its timed loops: sessions, conversations,
// appends that seed a conversation, and a paged read of a whole conversation. Every answer is
// checked; a wrong one throws, so a figure is never computed over failures.
import { request } from 'undici';
import { RawPool } from './http1.mjs';

async function call(url, method, path, token, body) {
  const response = await request(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`${method} ${path}: ${response.statusCode} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

export async function newSession(url) {
  return (await call(url, 'POST', '/v1/sessions', undefined, {})).token;
}

/** `n` conversations spread over `tokens` (owners), created 16 at a time. */
export async function createConversations(url, tokens, n) {
  const out = [];
  for (let start = 0; start < n; start += 16) {
    const batch = Array.from({ length: Math.min(16, n - start) }, (_, i) => tokens[(start + i) % tokens.length]);
    const created = await Promise.all(batch.map(async (token) => ({ id: (await call(url, 'POST', '/v1/conversations', token, {})).id, token })));
    out.push(...created);
  }
  return out;
}

/** Appends `count` numbered messages, 20 per call, and returns their ids in order. */
export async function appendNumbered(url, token, conversationId, count, from = 0) {
  const ids = [];
  for (let done = 0; done < count; done += 20) {
    const items = Array.from({ length: Math.min(20, count - done) }, (_, i) => ({
      type: 'message',
      role: (from + done + i) % 2 ? 'assistant' : 'user',
      content: `message ${from + done + i}: ${'some ordinary words of a chat turn '.repeat(4)}`,
    }));
    const page = await call(url, 'POST', `/v1/conversations/${conversationId}/items`, token, { items });
    ids.push(...page.data.map((item) => item.id));
  }
  return ids;
}

/** A pre-encoded GET with the caller's token. */
function encodeGet(url, path, token) {
  const { hostname, port } = new URL(url);
  return Buffer.from(`GET ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\nauthorization: Bearer ${token}\r\n\r\n`);
}

/**
 * Reads whole conversations in pages of `pageSize` (order asc, `after` = the previous page's
 * last_id), sequentially over one keep-alive connection, as a client loading a chat would.
 */
export class ConversationReader {
  constructor(url, token) {
    this.url = url;
    this.token = token;
    this.pool = new RawPool(url, 1);
  }

  get(path) {
    const bytes = encodeGet(this.url, path, this.token);
    return new Promise((resolve, reject) => {
      let text = '';
      const sentAt = performance.now();
      this.pool.request(bytes, {
        onText: (t) => (text += t),
        onEnd: (status) => resolve({ status, text, ms: performance.now() - sentAt }),
        onError: reject,
      });
    });
  }

  /**
   * One whole read. Returns the total time (first byte sent to last page parsed: what a client
   * waits, its own JSON parsing included), each page's round trip, and the ids in order.
   */
  async readAll(conversationId, pageSize = 100) {
    const started = performance.now();
    const pages = [];
    const ids = [];
    let after;
    for (;;) {
      const query = `order=asc&limit=${pageSize}${after ? `&after=${after}` : ''}`;
      const { status, text, ms } = await this.get(`/v1/conversations/${conversationId}/items?${query}`);
      if (status !== 200) throw new Error(`read page ${pages.length + 1}: ${status} ${text.slice(0, 200)}`);
      const page = JSON.parse(text);
      pages.push(ms);
      for (const item of page.data) ids.push(item.id);
      if (!page.has_more) break;
      after = page.last_id;
      if (pages.length > 1000) throw new Error('more than 1000 pages: the cursor does not advance');
    }
    return { totalMs: performance.now() - started, pages, ids };
  }

  close() {
    this.pool.close();
  }
}
