// The read measurement: a 1,000-item conversation read whole through the API, N times in a row,
// in one request (limit=1000, Floodgate allows up to 1,000 per page: the target's figure) and in
// ten pages of 100 (OpenAI's largest page, what a client written for OpenAI does: reported). Two variants: every item committed to PostgreSQL, and the same length with
// the newest items still pending in Redis (the flush process stopped), so every page is a merge of
// both sources and one page straddles the boundary. Each read is checked against the ids the
// appends returned, in order: a fast but wrong read would fail the run, not improve it.
import { request } from 'undici';
import { appendNumbered, ConversationReader, createConversations } from './history-api.mjs';
import { streamDrained } from './history-ingest.mjs';
import { summarize } from './stats.mjs';

const LENGTH = 1000;
const ONE_REQUEST = 1000;
const OPENAI_PAGE = 100;

/** Seeds one conversation: `committed` items flushed to PostgreSQL, then `pending` left in Redis. */
async function seed(ctx, layout, { committed, pending }) {
  const token = ctx.tokens[0];
  const [{ id }] = await createConversations(layout.url, [token], 1);
  const ids = await appendNumbered(layout.url, token, id, committed);
  await streamDrained(ctx);
  if (pending > 0) {
    // With the flush process gone and the gateway's own flushers at 0, appends stay in Redis.
    const problem = await layout.flusher.stop();
    if (problem) throw new Error(problem);
    ids.push(...(await appendNumbered(layout.url, token, id, pending, committed)));
  }
  const [row] = await ctx.monitor.query(`SELECT count(*)::int AS n FROM ${ctx.schema}.conversation_items WHERE conversation_id = $1`, [id]);
  const inRedis = await ctx.redis.zcard(`${ctx.streamKey}:items:${id}`);
  if (row.n !== committed || inRedis !== pending) throw new Error(`read seed: expected ${committed} items in PostgreSQL and ${pending} in Redis, found ${row.n} and ${inRedis}`);
  return { id, token, ids, committed: row.n, pending: inRedis };
}

/**
 * The gateway's own count of time spent on the items route (floodgate_request_duration_seconds,
 * from request received to response finished): what of a page's time is the gateway's, its Redis
 * and PostgreSQL waits included, and what is the network and the client.
 */
async function routeSeconds(url) {
  const text = await (await request(`${url}/metrics`)).body.text();
  const pick = (suffix) => Number(new RegExp(`^floodgate_request_duration_seconds_${suffix}\\{route="/v1/conversations/:id/items",model="none"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { sum: pick('sum'), count: pick('count') };
}

async function measure(ctx, layout, conversation, reps, pageSize) {
  const reader = new ConversationReader(layout.url, conversation.token);
  const totals = [];
  const pages = [];
  const clientMs = [];
  let server;
  try {
    // Warm-up: connection, prepared plans, V8's optimisation of the route; not counted.
    for (let i = 0; i < Math.min(20, reps); i++) await reader.readAll(conversation.id, pageSize);
    const before = await routeSeconds(layout.url);
    for (let i = 0; i < reps; i++) {
      const read = await reader.readAll(conversation.id, pageSize);
      if (read.ids.length !== LENGTH || read.ids.some((id, k) => id !== conversation.ids[k])) {
        throw new Error(`read ${i + 1} returned ${read.ids.length} items, not the ${LENGTH} appended in order`);
      }
      totals.push(read.totalMs);
      pages.push(...read.pages);
      clientMs.push(read.totalMs - read.pages.reduce((a, b) => a + b, 0));
    }
    const after = await routeSeconds(layout.url);
    server = { meanPageMs: ((after.sum - before.sum) / (after.count - before.count)) * 1000, pages: after.count - before.count };
  } finally {
    reader.close();
  }
  return { reps, pageSize, pagesPerRead: LENGTH / pageSize, total: summarize(totals), page: summarize(pages), clientParse: summarize(clientMs), server };
}

/**
 * Runs after the layout's ingest phases, so the table already holds their rows (an index scan in
 * a big table, not a toy one). Stops the layout's flush process for the merged variant.
 */
export async function readPhase(ctx, layout) {
  const reps = ctx.opts.reads;
  ctx.say(`[reads] seeding a conversation of ${LENGTH} committed items`);
  const committed = await seed(ctx, layout, { committed: LENGTH, pending: 0 });
  ctx.say(`[reads] ${reps} reads of ${LENGTH} committed items`);
  const committedResult = await measure(ctx, layout, committed, reps, ONE_REQUEST);
  const committedPaged = await measure(ctx, layout, committed, reps, OPENAI_PAGE);
  const pending = ctx.opts.pending;
  ctx.say(`[reads] seeding ${LENGTH - pending} committed + ${pending} pending items (flush process stopped)`);
  const mixed = await seed(ctx, layout, { committed: LENGTH - pending, pending });
  const mixedResult = await measure(ctx, layout, mixed, reps, ONE_REQUEST);
  const mixedPaged = await measure(ctx, layout, mixed, reps, OPENAI_PAGE);
  const place = (result, seeded) => ({ ...result, inDatabase: seeded.committed, inRedis: seeded.pending });
  return {
    committed: place(committedResult, committed),
    merged: place(mixedResult, mixed),
    committedPaged: place(committedPaged, committed),
    mergedPaged: place(mixedPaged, mixed),
  };
}
