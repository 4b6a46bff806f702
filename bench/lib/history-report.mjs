// Figures and verdicts of a history benchmark run, as Markdown. Each run is inserted at the top of
// bench/HISTORY-RESULTS.md (the four runs before it are kept below): on a noisy machine one run
// proves little, and the file should show the spread.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';

const TARGET = { itemsPerS: 5000, txPer1000: 2, readP99Ms: 20 };
const MARK = '<!-- runs: newest first; bench/history.mjs inserts each run below this line and keeps the 4 before it -->';
const KEEP = 4;

export async function machineFacts(ctx) {
  const settings = await ctx.monitor.query(
    `SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'autovacuum', 'max_connections')`,
  );
  const pgSetting = Object.fromEntries(settings.map((r) => [r.name, r.setting]));
  const redisInfo = await ctx.redis.info('server');
  const others = await ctx.monitor.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
  return {
    nproc: spawnSync('nproc', { encoding: 'utf8' }).stdout.trim() || String(cpus().length),
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    kernel: release(),
    node: process.version,
    postgres: pgSetting,
    redis: /redis_version:(\S+)/.exec(redisInfo)?.[1],
    otherDatabaseSessions: others[0].n,
  };
}

const fmt = (n, digits = 0) => (n === undefined || n === null || Number.isNaN(n) ? '-' : Number(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const pct = (part, whole) => (whole > 0 ? `${Math.round((part / whole) * 100)} %` : '-');
const verdict = (ok) => (ok ? 'PASS' : 'FAIL');

/** The derived figures of one ingest phase. */
export function phaseFigures(p) {
  const s = p.load.seconds;
  const apiItemsS = p.load.itemsMeasured / s;
  // Committed meanwhile = appended in the window − what the backlog grew by.
  const committedS = (p.load.itemsMeasured - (p.backlog.end - p.backlog.start)) / s;
  const items = p.load.itemsTotal;
  const errors = Object.values(p.load.errors).reduce((a, b) => a + b, 0);
  const rowsOk = p.rows.items >= items && p.rows.items <= items + p.load.unanswered * p.itemsPerRequest;
  return {
    apiItemsS,
    reqS: p.load.okRequests / s,
    committedS,
    endToEndS: items / p.endToEndS,
    flushTxPer1000: (p.rows.transactions / p.rows.items) * 1000,
    meanBatch: p.rows.items / p.rows.transactions,
    leastTx: Math.ceil(p.rows.items / 500),
    errors,
    rowsOk,
    ingestOk: apiItemsS >= TARGET.itemsPerS && committedS >= TARGET.itemsPerS,
    // The end of a load leaves each flusher at most one partial batch: that many are allowed on top.
    txOk: p.rows.transactions <= (TARGET.txPer1000 * p.rows.items) / 1000 + p.flushers,
  };
}

function ingestTable(phases) {
  const head = [
    '| layout | items / request | API: items/s (req/s) | p50 / p99 ms | errors | backlog at end | committed items/s (during load) | drain s | end to end items/s | flush tx / 1,000 items (tx, least possible) | mean batch | rows = accepted | ≥ 5,000 items/s | ≤ 2 tx |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  return [...head, ...phases.map((p) => {
    const f = phaseFigures(p);
    const l = p.load.latency;
    const errors = f.errors ? ` (${Object.entries(p.load.errors).map(([k, v]) => `${k} ×${v}`).join(', ')})` : '';
    return `| ${p.layout} | ${p.itemsPerRequest} | ${fmt(f.apiItemsS)} (${fmt(f.reqS)}) | ${fmt(l?.p50, 1)} / ${fmt(l?.p99, 1)} | ${f.errors}${errors} | ${fmt(p.backlog.end)} | ${fmt(f.committedS)} | ${fmt(p.drainS, 1)} | ${fmt(f.endToEndS)} | ${fmt(f.flushTxPer1000, 2)} (${fmt(p.rows.transactions)}, ${fmt(f.leastTx)}) | ${fmt(f.meanBatch)} | ${f.rowsOk ? 'yes' : `**NO** (${fmt(p.rows.items)} rows for ${fmt(p.load.itemsTotal)})`} | ${verdict(f.ingestOk)} | ${verdict(f.txOk)} |`;
  })];
}

/** pg_stat_database over each layout: every transaction of the database, other clients included. */
function ledgerTable(ledgers) {
  return [
    '| layout | DB commits (pg_stat delta) | items ingested | DB tx / 1,000 items | of which flush tx of the items (exact) | deadlocks | rollbacks | flush failures logged |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...ledgers.map((l) => `| ${l.layout} | ${fmt(l.commits)} | ${fmt(l.items)} | ${fmt((l.commits / l.items) * 1000, 2)} | ${fmt(l.flushTx)} (${fmt((l.flushTx / l.items) * 1000, 2)} / 1,000) | ${l.deadlocks + l.flusherLog.deadlocks} | ${l.rollbacks} | ${l.flusherLog.failedWrites} |`),
  ];
}

function cpuLine(p) {
  const c = p.cpu;
  if (!c) return 'CPU: not sampled';
  const pr = c.processes;
  const ours = (pr.redis ?? 0) + (pr.postgres ?? 0);
  const others = Math.max(0, c.foreign - ours);
  const loops = [`gateway loop ${fmt((p.loops.gateway?.elu ?? NaN) * 100)} % busy`];
  if (p.loops.flusher) loops.push(`flush-process loop ${fmt(p.loops.flusher.elu * 100)} % busy`);
  const w = p.waits;
  const waits = w.samples ? `; flusher backends (${w.samples} samples): running ${pct(w.running, w.samples)}, row-lock wait ${pct(w.lock, w.samples)}, WAL/IO ${pct(w.io, w.samples)}, waiting for the flusher process mid-transaction ${pct(w.client, w.samples)}, idle ${pct(w.idle, w.samples)}` : '';
  return `CPU (% of one core): gateway ${fmt(pr.gateway)}${pr.flusher !== undefined ? `, flush process ${fmt(pr.flusher)}` : ''}, load generator ${fmt(pr.load)}, redis ${fmt(pr.redis)}, postgres ${fmt(pr.postgres)}, other processes ${fmt(others)}; cores ${Object.values(c.cores).map((v) => `${fmt(v)} %`).join(' / ')} busy; ${loops.join(', ')}${waits}`;
}

/** What held each phase back, read off its CPU and wait figures. */
function bottleneck(p) {
  const c = p.cpu;
  if (!c) return undefined;
  const busy = Object.values(c.cores);
  const saturated = busy.length > 0 && busy.every((v) => v >= 90);
  const gwLoop = p.loops.gateway?.elu ?? 0;
  const reasons = [];
  if (gwLoop >= 0.9) reasons.push(`the gateway's event loop was ${fmt(gwLoop * 100)} % busy: the API process is CPU-bound`);
  if (p.loops.flusher && p.loops.flusher.elu >= 0.9) reasons.push(`the flush process's event loop was ${fmt(p.loops.flusher.elu * 100)} % busy`);
  if (saturated) reasons.push(`both cores were ≥ 90 % busy: the machine itself was the limit (load generator, Redis and PostgreSQL share the 2 cores with the gateway)`);
  if (p.waits.samples && p.waits.lock / p.waits.samples >= 0.2) reasons.push(`flushers waited on each other's row locks in ${pct(p.waits.lock, p.waits.samples)} of samples`);
  if (p.backlog.end > p.backlog.start + 1000) reasons.push(`the flushers fell behind: the backlog grew by ${fmt(p.backlog.end - p.backlog.start)} entries during the load`);
  return reasons.length ? reasons.join('; ') : 'no resource was saturated';
}

function readRows(reads) {
  const row = (name, r, judged = true) => `| ${name} | ${fmt(r.inDatabase)} / ${fmt(r.inRedis)} | ${r.reps} | ${fmt(r.total.p50, 2)} | ${fmt(r.total.p99, 2)} | ${fmt(r.total.max, 2)} | ${fmt(r.page.p50, 2)} | ${fmt(r.page.p99, 2)} | ${fmt(r.page.mean, 2)} / ${fmt(r.server?.meanPageMs, 2)} | ${fmt(r.clientParse.p50, 2)} | ${judged ? verdict(r.total.p99 <= TARGET.readP99Ms) : 'reported'} |`;
  return [
    '| conversation | items in PostgreSQL / pending in Redis | reads | whole read p50 ms | p99 ms | max ms | per page p50 ms | per page p99 ms | per page mean ms: client / inside the gateway | client parse per read p50 ms | ≤ 20 ms p99 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    row('committed, one request', reads.committed),
    row('merged (newest pending), one request', reads.merged),
    ...(reads.committedPaged ? [
      row('committed, 10 pages of 100', reads.committedPaged, false),
      row('merged, 10 pages of 100', reads.mergedPaged, false),
    ] : []),
  ];
}

function targetLines(run) {
  const lines = [];
  for (const layout of run.opts.layouts) {
    const phases = run.phases.filter((p) => p.layout === layout);
    if (phases.length === 0) continue;
    const figures = phases.map((p) => [p, phaseFigures(p)]);
    const ingest = figures.map(([p, f]) => {
      const worst = Math.min(f.apiItemsS, f.committedS);
      const miss = worst < TARGET.itemsPerS ? ` (${fmt((1 - worst / TARGET.itemsPerS) * 100)} % short)` : '';
      return `${p.itemsPerRequest}/request: ${verdict(f.ingestOk)} API ${fmt(f.apiItemsS)}, committed ${fmt(f.committedS)}${miss}`;
    });
    lines.push(`- **ingest ≥ 5,000 items/s, accepted by the API and committed to PostgreSQL while the load runs** (${layout}, ${run.opts.flushers} flushers) — ${ingest.join('; ')}`);
    lines.push(`- **≤ 2 database transactions per 1,000 items** (${layout}; the flushers' transactions of the items, exact, allowing one partial batch per flusher at the end of the load) — ${figures.map(([p, f]) => `${p.itemsPerRequest}/request: ${verdict(f.txOk)} ${fmt(f.flushTxPer1000, 2)} (${fmt(p.rows.transactions)} tx for ${fmt(p.rows.items)} items; least possible ${fmt(f.leastTx)})`).join('; ')}`);
    const ledger = run.ledgers.find((l) => l.layout === layout);
    if (ledger) {
      const deadlocks = ledger.deadlocks + ledger.flusherLog.deadlocks;
      lines.push(`- **zero deadlocks with ${run.opts.flushers} flushers** (${layout}) — ${verdict(deadlocks === 0)} ${deadlocks} (pg_stat_database.deadlocks over the layout, any client of the database, plus deadlock errors in the flushers' log); ${ledger.rollbacks} rollbacks, ${ledger.flusherLog.failedWrites} failed flushes`);
    }
  }
  if (run.reads) {
    const r = run.reads;
    const judge = (x) => {
      const { p50, p99 } = x.total;
      const miss = p99 > TARGET.readP99Ms ? `, ${fmt(p99 - TARGET.readP99Ms, 1)} ms over (p50 ${fmt(p50, 1)} ms${p50 > TARGET.readP99Ms ? ', itself over the target' : ''})` : '';
      const inside = x.server ? `; inside the gateway ${fmt(x.server.meanPageMs, 2)} of ${fmt(x.page.mean, 2)} ms per page on average` : '';
      return `${verdict(p99 <= TARGET.readP99Ms)} p99 ${fmt(p99, 2)} ms${miss}${inside}`;
    };
    lines.push(`- **1,000-item conversation read in ≤ 20 ms p99** (one request, limit=1000) — committed: ${judge(r.committed)}; merged with ${r.merged.inRedis} pending: ${judge(r.merged)}`);
    if (r.committedPaged) {
      const paged = (x) => `p50 ${fmt(x.total.p50, 1)} ms, p99 ${fmt(x.total.p99, 1)} ms`;
      lines.push(`- reported, no target: the same read as 10 sequential pages of 100 (OpenAI's largest page) — committed: ${paged(r.committedPaged)}; merged: ${paged(r.mergedPaged)}`);
    }
  }
  const broken = run.phases.filter((p) => !phaseFigures(p).rowsOk);
  lines.push(`- **every accepted item is in PostgreSQL exactly once** — ${verdict(broken.length === 0)}${broken.length ? ` (${broken.map((p) => `${p.layout} ${p.itemsPerRequest}/request: ${p.rows.items} rows for ${p.load.itemsTotal} accepted`).join('; ')})` : ''}`);
  return lines;
}

export function runMarkdown(run) {
  const f = run.facts;
  const o = run.opts;
  const pgs = f.postgres;
  const when = `${run.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC – ${run.finishedAt.toISOString().slice(11, 16)} UTC`;
  return [
    `## Run ${when}, commit \`<commit>\``,
    '',
    `Machine: \`nproc\` ${f.nproc} (${f.cpu}), Linux ${f.kernel}, Node ${f.node}; PostgreSQL ${pgs.server_version} (synchronous_commit ${pgs.synchronous_commit}, fsync ${pgs.fsync}, autovacuum ${pgs.autovacuum}, shared_buffers ${pgs.shared_buffers} × 8 kB), Redis ${f.redis}; ${f.otherDatabaseSessions} other session(s) on the database at the start.`,
    `Command: \`${run.command}\`; ${o.seconds} s measured after ${o.warmup} s warm-up per row, ${o.connections} connections over ${o.conversations} fresh conversations of ${o.sessions} sessions; flush: batch_size 500, interval_ms 1000, max_pending ${fmt(o.maxPending)}, ${o.flushers} flushers; processes ${o.pin ? 'pinned (gateway core 1, the rest core 0)' : 'not pinned'}.`,
    ...(run.priorityNote ? [`Note: ${run.priorityNote}`] : []),
    ...(run.problems.length ? [`Problems: ${run.problems.join('; ')}`] : []),
    '',
    '### Ingest',
    '',
    ...ingestTable(run.phases),
    '',
    'Database transactions, from `pg_stat_database` around each layout (start-up, creating the conversations and the whole ingest, the harness\'s own statements subtracted; other clients of the database are included, so on a shared database this is an upper bound):',
    '',
    ...ledgerTable(run.ledgers),
    '',
    ...run.phases.flatMap((p) => [`- ${p.layout}, ${p.itemsPerRequest}/request: ${cpuLine(p)}. Bottleneck: ${bottleneck(p)}.`]),
    '',
    ...(run.reads ? ['### Reads', '', ...readRows(run.reads), ''] : []),
    '### Targets',
    '',
    ...targetLines(run),
    '',
  ].join('\n');
}

const HEADER = `# History benchmark results

\`npm run bench:history\` (bench/history.mjs) measures the scale-out history (Redis + PostgreSQL)
through the public API. Each run uses a schema and a Redis stream key of its own and drops both at
the end. Layouts: **split** = one gateway with \`storage.flush.flushers: 0\` plus a separate
\`floodgate flush\` process with 4 flushers (API and flushing on separate event loops, the
scale-out deployment); **single** = one gateway process that appends and runs the 4 flushers.

- **API items/s**: items in 200 answers to \`POST /v1/conversations/{id}/items\` during the
  measured window (closed loop, N keep-alive connections round-robin over the conversations;
  a 503 makes that connection wait 1 s, as its Retry-After asks). p50/p99: request latency at
  that saturation, so they include queueing.
- **committed items/s (during load)**: appended in the window minus the growth of the stream's
  length (an entry is deleted once its batch committed): what PostgreSQL absorbed meanwhile.
  **drain s**: from the end of the load until the stream is empty. **end to end**: all items
  accepted (warm-up included) over the time from the first request to the empty stream.
- **flush tx / 1,000 items**: the transactions that wrote the phase's items, counted exactly as the
  distinct \`xmin\` of those rows (a flusher writes a batch in one transaction), per 1,000 items;
  *least possible* is ⌈items / 500⌉. The ≤ 2 verdict allows one partial batch per flusher on top
  (the end of a load leaves each flusher a last, short batch).
- **DB tx / 1,000 items** (second table): \`pg_stat_database.xact_commit\` delta around each
  layout, its processes stopped before the second reading (PostgreSQL 15 holds a busy backend's
  counts for up to 10 s; exiting flushes them), minus the harness's own statements. It counts every
  transaction in the database, other clients included, so on a shared database it is an upper bound.
- **deadlocks**: \`pg_stat_database.deadlocks\` delta around each layout plus deadlock errors
  (40P01) in the flushers' log; rollbacks and failed flushes are shown beside them.
- **rows = accepted**: the rows in PostgreSQL for the phase's conversations equal the items the API
  accepted (nothing lost, nothing written twice).
- **Reads**: a 1,000-item conversation read in one request (\`order=asc&limit=1000\`; Floodgate
  allows pages of up to 1,000 items, OpenAI 100), and as 10 pages of 100
  (\`order=asc&limit=100&after=<last_id>\`) sequentially over one connection, each N times after 20 warm-up reads; the whole read is what a client
  waits, its own JSON parsing included. Every read is checked against the appended ids, in order.
  *Inside the gateway*: the gateway's own mean time per page (\`floodgate_request_duration_seconds\`
  of the route, request received to response finished, its Redis and PostgreSQL waits included);
  the rest of the client's page time is the loopback network and the client.
  *merged*: the flush process is stopped first, so the newest items are still pending in Redis
  and each page merges both sources.

${MARK}
`;

/**
 * Writes the run into `path`, newest first, keeping the last runs and any hand-written
 * "## Notes" section (analysis that belongs to a commit, not to one run) above them.
 */
export function writeResults(run, path) {
  const section = runMarkdown(run);
  let earlier = [];
  let notes = '';
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    const at = old.indexOf(MARK);
    if (at >= 0) {
      earlier = old.slice(at + MARK.length).split(/\n(?=## Run )/).map((s) => s.trim()).filter((s) => s.startsWith('## Run '));
      const notesAt = old.indexOf('\n## Notes');
      if (notesAt >= 0 && notesAt < at) notes = `${old.slice(notesAt + 1, at).trim()}\n\n`;
    }
  }
  const header = HEADER.replace(`${MARK}\n`, '');
  writeFileSync(path, `${header.trimEnd()}\n\n${notes}${MARK}\n\n${[section.trim(), ...earlier.slice(0, KEEP)].join('\n\n')}\n`);
  const failed = /\bFAIL\b/.test(section.split('### Targets')[1] ?? '') || run.problems.length > 0;
  return { text: section, failed };
}
