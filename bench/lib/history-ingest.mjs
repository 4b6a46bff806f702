// One ingest measurement: fresh conversations, a closed-loop append load for a fixed time, then the
// wait until the stream is empty (everything committed), and the transactions that wrote those
// items, counted exactly from the rows' xmin. The stream's length is the backlog (redis-keys.ts:
// an entry is deleted once its batch committed), so "committed so far" = appended − backlog,
// without asking the database.
import { fileURLToPath } from 'node:url';
import { createConversations } from './history-api.mjs';
import { flusherWaits, itemTransactions, loopFigures } from './history-setup.mjs';
import { startCpuWindow } from './monitor.mjs';
import { sleep, startChild, stopChild } from './procs.mjs';

const LOAD = fileURLToPath(new URL('./history-load.mjs', import.meta.url));

/** Waits until the stream is empty; resolves with the time it took, or throws after `timeoutMs`. */
export async function streamDrained(ctx, timeoutMs = 120_000) {
  const t0 = performance.now();
  while ((await ctx.redis.xlen(ctx.streamKey)) > 0) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`the stream still holds ${await ctx.redis.xlen(ctx.streamKey)} entries after ${timeoutMs} ms: are the flushers running?`);
    await sleep(25);
  }
  return performance.now() - t0;
}

/** Runs the load child and calls `onMark` on its window marks; resolves with its result line. */
function runLoad(ctx, spec, onMark) {
  const record = startChild('history-load', ['node', LOAD, JSON.stringify(spec)], { core: ctx.loadCore, nofile: ctx.nofile, stdout: 'pipe' });
  let buffered = '';
  let result;
  const marks = [];
  record.child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      if (line.type === 'mark') marks.push(onMark(line));
      else if (line.type === 'result') result = line;
      else if (line.type === 'fatal') result = { fatal: line.message };
      else if (line.type === 'progress') ctx.say(`  t=${line.elapsedS.toFixed(0)}s ${line.items} items`);
    }
  });
  return {
    pid: record.pid,
    done: new Promise((resolve, reject) => {
      record.child.on('exit', async () => {
        await Promise.all(marks);
        if (!result || result.fatal) reject(new Error(`load generator failed: ${result?.fatal ?? record.tail.slice(-5).join(' | ')}`));
        else resolve(result);
      });
    }),
    stop: () => stopChild(record),
  };
}

/**
 * `layout`: { name, url, gateway, flusher? }, processes as started by startFloodgate. Returns every
 * figure of the phase; nothing here judges it (history-report.mjs does).
 */
export async function ingestPhase(ctx, layout, itemsPerRequest) {
  const { url } = layout;
  ctx.say(`[${layout.name}] ${itemsPerRequest} item(s)/request: creating ${ctx.opts.conversations} conversations`);
  const conversations = await createConversations(url, ctx.tokens, ctx.opts.conversations);
  await streamDrained(ctx);

  const pids = { gateway: layout.gateway.record.pid, flusher: layout.flusher?.record.pid, redis: ctx.redisPid, postgres: ctx.postgresPid };
  const window = { backlog: [], waits: [] };
  let cpuWindow;
  const loadStartedAt = performance.now();
  const load = runLoad(ctx, { url, targets: conversations, itemsPerRequest, connections: ctx.opts.connections, warmupS: ctx.opts.warmup, seconds: ctx.opts.seconds }, async (mark) => {
    const backlog = await ctx.redis.xlen(ctx.streamKey);
    if (mark.what === 'measure-start') {
      Object.assign(window, { startAt: mark.at, backlogStart: backlog });
      cpuWindow = startCpuWindow({ ...pids, load: load.pid });
    } else {
      Object.assign(window, { endAt: mark.at, endPerf: performance.now(), backlogEnd: backlog, cpu: cpuWindow?.() });
    }
  });
  // Sampled while the load runs: the backlog, and what the flushers' backends are doing.
  const sampler = setInterval(() => {
    if (window.startAt === undefined || window.endAt !== undefined) return;
    void ctx.redis.xlen(ctx.streamKey).then((n) => window.backlog.push(n)).catch(() => {});
    void flusherWaits(ctx.monitor, ctx.flusherApp(layout)).then((rows) => window.waits.push(...rows)).catch(() => {});
  }, 250);
  let result;
  try {
    result = await load.done;
  } finally {
    clearInterval(sampler);
    await load.stop();
  }
  ctx.say(`[${layout.name}] ${(result.itemsMeasured / ctx.opts.seconds).toFixed(0)} items/s accepted; waiting for the flushers to empty the stream (${await ctx.redis.xlen(ctx.streamKey)} entries)`);
  await streamDrained(ctx);
  const drainedAt = performance.now();
  const rows = await itemTransactions(ctx.monitor, ctx.schema, conversations.map((c) => c.id));

  return {
    layout: layout.name,
    flushers: ctx.opts.flushers,
    itemsPerRequest,
    conversations: conversations.length,
    load: result,
    backlog: { start: window.backlogStart, end: window.backlogEnd, peak: Math.max(window.backlogEnd ?? 0, ...window.backlog) },
    // From the end of the measured window (the load stops then) to an empty stream.
    drainS: (drainedAt - window.endPerf) / 1000,
    endToEndS: (drainedAt - loadStartedAt) / 1000,
    rows,
    waits: summarizeWaits(window.waits),
    cpu: window.cpu,
    loops: {
      gateway: loopFigures(layout.gateway.probeFile, window.startAt, window.endAt),
      flusher: layout.flusher ? loopFigures(layout.flusher.probeFile, window.startAt, window.endAt) : undefined,
    },
  };
}

/**
 * Samples of the flushers' database connections by state: running a statement, waiting on a row
 * lock (another flusher's transaction), on WAL/IO (the commit's fsync), waiting inside a
 * transaction for the flusher process's next statement (`client`), or idle between transactions
 * (the flusher is reading Redis, decoding, acknowledging, or the connection is a spare in the pool).
 */
function summarizeWaits(samples) {
  const out = { samples: samples.length, running: 0, lock: 0, io: 0, client: 0, idle: 0 };
  for (const s of samples) {
    if (s.state === 'idle in transaction') out.client++;
    else if (s.state !== 'active') out.idle++;
    else if (s.type === 'Lock') out.lock++;
    else if (s.type === 'IO' || s.type === 'LWLock') out.io++;
    else out.running++;
  }
  return out;
}
