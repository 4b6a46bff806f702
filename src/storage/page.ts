// Cursor pages, as OpenAI's list endpoints return them: `after` names the last row the caller
// saw, and one row beyond `limit` is fetched to learn whether another page exists.

export type Order = 'asc' | 'desc';

export interface PageRequest {
  /** Id of the last row of the previous page. An id the caller cannot see gives an empty page. */
  after?: string;
  limit: number;
  order: Order;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/** SQL keywords for an order, from this closed table only, never from the caller's string. */
const DIRECTIONS = {
  asc: { by: 'ASC', past: '>' },
  desc: { by: 'DESC', past: '<' },
} as const;

/** How to sort, which side of the cursor comes next, and how many rows to fetch. */
export function pagePlan(request: PageRequest): { by: 'ASC' | 'DESC'; past: '>' | '<'; fetch: number } {
  if (!Object.hasOwn(DIRECTIONS, request.order)) throw new RangeError(`order must be asc or desc, got ${String(request.order)}`);
  if (!Number.isSafeInteger(request.limit) || request.limit < 1) throw new RangeError(`limit must be a positive integer, got ${request.limit}`);
  return { ...DIRECTIONS[request.order], fetch: request.limit + 1 };
}

export function toPage<T>(rows: readonly T[], limit: number): Page<T> {
  return { data: rows.slice(0, limit), hasMore: rows.length > limit };
}
