// The query string of OpenAI's list endpoints: `after` (an id), `limit` (1 to 100, default 20) and
// `order` (asc or desc, default desc). Bad values are 400s that name the parameter, as OpenAI's.
// An endpoint may allow a larger limit than OpenAI's 100 (a superset: every OpenAI request works).
import { GatewayError } from '../core/errors.js';
import type { PageRequest } from '../storage/page.js';

export function parseListQuery(query: unknown, options: { maxLimit?: number } = {}): PageRequest {
  const maxLimit = options.maxLimit ?? 100;
  const q = (query ?? {}) as Record<string, unknown>;
  const request: PageRequest = { limit: 20, order: 'desc' };
  if (q.limit !== undefined) {
    const limit = Number(q.limit);
    if (typeof q.limit !== 'string' || !/^\d+$/.test(q.limit) || limit < 1 || limit > maxLimit) {
      throw badQuery('limit', `limit must be an integer from 1 to ${maxLimit}, got '${String(q.limit)}'.`);
    }
    request.limit = limit;
  }
  if (q.order !== undefined) {
    if (q.order !== 'asc' && q.order !== 'desc') throw badQuery('order', `order must be 'asc' or 'desc', got '${String(q.order)}'.`);
    request.order = q.order;
  }
  if (q.after !== undefined) {
    if (typeof q.after !== 'string' || q.after.length === 0 || q.after.length > 200) throw badQuery('after', 'after must be an id from a previous page.');
    request.after = q.after;
  }
  return request;
}

function badQuery(param: string, message: string): GatewayError {
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code: 'invalid_value', param });
}

/**
 * OpenAI's list envelope. The spec makes first_id and last_id required strings, so an empty page
 * has empty ones (the openai SDK reads a missing cursor the same way: `last_id || ''`).
 */
export function listEnvelope<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: 'list' as const, data, first_id: data[0]?.id ?? '', last_id: data.at(-1)?.id ?? '', has_more: hasMore };
}
