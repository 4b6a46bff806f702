#!/usr/bin/env node
// History benchmark (scale-out mode, Redis + PostgreSQL): items ingested per second through the
// API, database transactions per 1,000 items and deadlocks with 4 flushers, and the latency of
// reading a 1,000-item conversation. The header of bench/HISTORY-RESULTS.md (written by
// lib/history-report.mjs) says what each figure means.
//
//   npm run bench:history                 ~3 minutes: both layouts, 1, 2 and 10 items/request
//   node bench/history.mjs --quick        ~1.5 minutes
//   node bench/history.mjs --layouts split --batches 10 --seconds 30 --connections 128
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { newSession } from './lib/history-api.mjs';
import { ingestPhase } from './lib/history-ingest.mjs';
import { readPhase } from './lib/history-read.mjs';
import { machineFacts, writeResults } from './lib/history-report.mjs';
import { connectRedis, counterDelta, databaseCounters, deleteStreamKeys, flusherLogProblems, openMonitor, postmasterPid, redisPid, runNames, startFloodgate } from './lib/history-setup.mjs';
import { hardNofileLimit, installCleanup, portIsFree, sleep, stopAll } from './lib/procs.mjs';
import { inOwnSession, raisePriority } from './lib/session.mjs';
import { summarizeProfile } from './profile-summary.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const LAYOUTS = ['split', 'single'];
const USAGE = `usage: node bench/history.mjs [--quick] [--layouts split,single] [--batches 1,2,10] [--seconds 20] [--warmup 2]
                            [--connections 64] [--conversations 256] [--sessions 8] [--flushers 4]
                            [--reads 200] [--pending 250] [--max-pending 100000] [--pin] [--profile]
                            [--port 9400] [--entry dist/main.js] [--out bench/HISTORY-RESULTS.md]
  env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), REDIS_URL (default redis://127.0.0.1:6379)`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      layouts: { type: 'string', default: LAYOUTS.join(',') },
      batches: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '64' },
      conversations: { type: 'string', default: '256' },
      sessions: { type: 'string', default: '8' },
      flushers: { type: 'string', default: '4' },
      reads: { type: 'string' },
      pending: { type: 'string', default: '250' },
      'max-pending': { type: 'string', default: '100000' },
      pin: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      port: { type: 'string', default: '9400' },
      entry: { type: 'string', default: join(ROOT, 'dist/main.js') },
      out: { type: 'string', default: join(HERE, 'HISTORY-RESULTS.md') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const layouts = values.layouts.split(',').map((s) => s.trim()).filter(Boolean);
  for (const l of layouts) if (!LAYOUTS.includes(l)) throw new Error(`unknown layout "${l}"\n${USAGE}`);
  const quick = values.quick;
  return {
    quick,
    layouts,
    batches: (values.batches ?? (quick ? '1,10' : '1,2,10')).split(',').map(Number),
    seconds: Number(values.seconds ?? (quick ? 8 : 20)),
    warmup: Number(values.warmup),
    connections: Number(values.connections),
    conversations: Number(values.conversations),
    sessions: Number(values.sessions),
    flushers: Number(values.flushers),
    reads: Number(values.reads ?? (quick ? 50 : 200)),
    pending: Number(values.pending),
    maxPending: Number(values['max-pending']),
    pin: values.pin,
    profile: values.profile,
    port: Number(values.port),
    entry: values.entry,
    out: values.out,
    databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  };
}

const say = (line) => process.stderr.write(`${line}\n`);

/** The storage.flush section: the product's defaults but for the flusher count. */
const flushSection = (opts, flushers) => ({ batch_size: 500, interval_ms: 1000, max_pending: opts.maxPending, retry_ms: 1000, flushers, claim_idle_ms: 15_000 });

/**
 * split: the API node appends only (flushers 0) and a `floodgate flush` process runs the 4
 * flushers, so API and flushing do not share one event loop (the scale-out deployment).
 * single: one gateway process appends and runs the 4 flushers.
 */
async function startLayout(ctx, name, suffix = '') {
  const port = ctx.opts.port;
  const pin = (core) => (ctx.opts.pin ? core : undefined);
  if (name === 'split') {
    const flusher = await startFloodgate(ctx, { name: `flush${suffix}`, command: 'flush', flush: flushSection(ctx.opts, ctx.opts.flushers), core: pin(0), applicationName: ctx.apps.flush });
    const gateway = await startFloodgate(ctx, { name: `gateway-split${suffix}`, command: 'serve', flush: flushSection(ctx.opts, 0), port, core: pin(1), applicationName: ctx.apps.gateway });
    return { name, url: `http://127.0.0.1:${port}`, gateway, flusher };
  }
  const gateway = await startFloodgate(ctx, { name: `gateway-single${suffix}`, command: 'serve', flush: flushSection(ctx.opts, ctx.opts.flushers), port, core: pin(1), applicationName: ctx.apps.gateway });
  return { name, url: `http://127.0.0.1:${port}`, gateway };
}

async function stopLayout(layout) {
  const problems = [];
  for (const p of [layout.gateway, layout.flusher]) {
    const problem = p && !p.record.exited ? await p.stop() : undefined;
    if (problem) problems.push(problem);
  }
  return problems;
}

async function main() {
  const opts = options();
  const startedAt = new Date();
  const priorityNote = raisePriority();
  if (!existsSync(opts.entry)) throw new Error(`${opts.entry} is missing: run \`npm run build\` first (or use \`npm run bench:history\`).`);
  if (!(await portIsFree(opts.port))) throw new Error(`port ${opts.port} is in use; pick another with --port`);
  const names = runNames();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const logDir = mkdtempSync(join(tmpdir(), 'floodgate-history-'));
  const profileDir = opts.profile ? join(HERE, 'results', `history-${stamp}-profiles`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx = {
    opts, say, logDir, profileDir, ...names, entry: opts.entry, nofile: hardNofileLimit(),
    databaseUrl: opts.databaseUrl, redisUrl: opts.redisUrl,
    sessionSecret: randomBytes(24).toString('hex'),
    loadCore: opts.pin ? 0 : undefined,
    // application_name of each process's connections, to find the flushers in pg_stat_activity.
    apps: { flush: `fg-bench-flush-${names.schema.slice(-8)}`, gateway: `fg-bench-gw-${names.schema.slice(-8)}` },
    flusherApp: (layout) => (layout.flusher ? ctx.apps.flush : ctx.apps.gateway),
  };
  ctx.monitor = await openMonitor(opts.databaseUrl);
  ctx.redis = connectRedis(opts.redisUrl);
  const cleanup = async () => {
    await stopAll();
    await ctx.monitor.query(`DROP SCHEMA IF EXISTS ${ctx.schema} CASCADE`).catch((e) => say(`could not drop schema ${ctx.schema}: ${e.message}`));
    const keys = await deleteStreamKeys(ctx.redis, ctx.streamKey).catch((e) => say(`could not delete ${ctx.streamKey}*: ${e.message}`));
    say(`cleaned up: schema ${ctx.schema} dropped, ${keys ?? '?'} Redis keys under ${ctx.streamKey} deleted`);
  };
  installCleanup(cleanup);
  say(`logs: ${logDir}\nschema ${ctx.schema}, stream ${ctx.streamKey}; layouts ${opts.layouts.join(', ')}, ${opts.batches.join('/')} items per request, ${opts.seconds} s each`);

  const phases = [];
  const ledgers = [];
  const problems = [];
  let reads;
  let facts;
  try {
    await ctx.monitor.query(`CREATE SCHEMA ${ctx.schema}`);
    ctx.redisPid = await redisPid(ctx.redis);
    ctx.postgresPid = await postmasterPid(ctx.monitor);
    facts = await machineFacts(ctx);
    for (const name of opts.layouts) {
      // pg_stat counts are complete only once the processes that made them have exited (see
      // databaseCounters), so they are read around a whole layout, its processes stopped.
      const before = await databaseCounters(ctx.monitor);
      const layout = await startLayout(ctx, name);
      const flusherLogFile = layout.flusher?.logFile ?? layout.gateway.logFile;
      const mine = [];
      try {
        ctx.tokens = await Promise.all(Array.from({ length: opts.sessions }, () => newSession(layout.url)));
        for (const items of opts.batches) mine.push(await ingestPhase(ctx, layout, items));
      } finally {
        problems.push(...(await stopLayout(layout)));
      }
      await sleep(500);
      const delta = counterDelta(before, await databaseCounters(ctx.monitor));
      phases.push(...mine);
      ledgers.push({
        layout: name,
        ...delta,
        items: mine.reduce((a, p) => a + p.load.itemsTotal, 0),
        flushTx: mine.reduce((a, p) => a + p.rows.transactions, 0),
        flusherLog: flusherLogProblems(flusherLogFile),
      });
      // Reads need the split layout (stopping its flush process leaves items pending in Redis);
      // fresh processes, so the read figures carry nothing over from the ingest.
      if (name === 'split' && opts.reads > 0) {
        const readLayout = await startLayout(ctx, 'split', '-reads');
        try {
          reads = await readPhase(ctx, readLayout);
        } finally {
          problems.push(...(await stopLayout(readLayout)));
        }
      }
    }
    if (opts.reads > 0 && !reads) say('reads skipped: they run in the split layout only');
  } finally {
    await cleanup();
    await ctx.monitor.close();
    ctx.redis.disconnect();
  }

  const finishedAt = new Date();
  const run = { opts, startedAt, finishedAt, facts, priorityNote, phases, ledgers, reads, problems, command: `node bench/history.mjs ${process.argv.slice(2).join(' ')}`.trim(), logDir };
  const { text, failed } = writeResults(run, opts.out);
  console.log(text);
  const resultsDir = join(HERE, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const jsonFile = join(resultsDir, `history-${stamp}.json`);
  // The URLs may carry passwords: they stay out of the results file.
  const { databaseUrl: _d, redisUrl: _r, ...shownOpts } = opts;
  writeFileSync(jsonFile, `${JSON.stringify({ ...run, opts: shownOpts }, null, 2)}\n`);
  // --profile: where each process spent its CPU (the gateway's and the flusher's .cpuprofile).
  for (const file of profileDir ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')) : []) {
    const summary = summarizeProfile(join(profileDir, file), 15);
    say(`\n${file}: ${(summary.busyMs / 1000).toFixed(1)} s busy; top: ${summary.top.map((f) => `${f.name} ${f.pct.toFixed(1)} %`).join(', ')}`);
    say(`  by package: ${summary.byGroup.slice(0, 10).map((g) => `${g.group} ${g.pct.toFixed(1)} %`).join(', ')}`);
  }
  say(`\nwritten: ${relative(process.cwd(), opts.out)}, ${relative(process.cwd(), jsonFile)}   logs: ${logDir}`);
  process.exitCode = failed ? 3 : 0;
}

inOwnSession(fileURLToPath(import.meta.url), () =>
  main().catch(async (error) => {
    console.error(`bench:history: ${error.stack ?? error.message}`);
    await stopAll();
    process.exit(1);
  }),
);
