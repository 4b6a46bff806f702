// The history benchmark's world: a PostgreSQL schema and a Redis stream key of its own (so a run
// never touches other data and leaves nothing behind), the gateway and `floodgate flush` processes
// configured over them, and the figures read from the database itself (pg_stat_database, and the
// transaction ids of the rows written).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { request } from 'undici';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { startChild, stopChild, waitUntil } from './procs.mjs';

const LOOP_PROBE = fileURLToPath(new URL('./loop-probe.mjs', import.meta.url));

/** A fresh name for this run's schema and stream key; both are dropped at the end. */
export function runNames() {
  const tag = randomBytes(4).toString('hex');
  return { schema: `floodgate_bench_${tag}`, streamKey: `floodgate:bench:${tag}` };
}

/** `url` with a search_path, so every connection of the gateway and flusher lands in `schema`. */
export function schemaUrl(url, schema, applicationName) {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  // Lets the harness tell the flushers' backends from the gateway's in pg_stat_activity.
  if (applicationName) u.searchParams.set('application_name', applicationName);
  return u.toString();
}

/**
 * The harness's own connection. Every statement it runs is a transaction in pg_stat_database too,
 * so it counts them: the transaction figures subtract the harness's own.
 */
export async function openMonitor(databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  client.on('error', () => {});
  let statements = 0;
  return {
    get statements() {
      return statements;
    },
    query: async (sql, params) => {
      statements += 1;
      const result = await client.query(sql, params);
      // Several statements in one message give one result each: the last one answers.
      return Array.isArray(result) ? result.at(-1).rows : result.rows;
    },
    close: () => client.end().catch(() => {}),
  };
}

/**
 * Commits, rollbacks and deadlocks of the whole database so far. pg_stat is flushed lazily: a
 * backend that reported less than a second ago holds its counts for up to 10 s (PostgreSQL 15's
 * PGSTAT_IDLE_INTERVAL), and only exiting flushes at once. So callers take these only while none
 * of the benchmark's gateway or flush processes is running, and the harness forces its own
 * connection's counts out first. One transaction each (pg_stat_force_next_flush, the snapshot).
 */
export async function databaseCounters(monitor) {
  await monitor.query('SELECT pg_stat_force_next_flush()');
  const [row] = await monitor.query(`SELECT pg_stat_clear_snapshot();
    SELECT xact_commit::int8 AS commits, xact_rollback::int8 AS rollbacks, deadlocks::int8 AS deadlocks
    FROM pg_stat_database WHERE datname = current_database()`);
  return { commits: Number(row.commits), rollbacks: Number(row.rollbacks), deadlocks: Number(row.deadlocks), own: monitor.statements };
}

/** after − before, less the harness's own statements in between (the `before` snapshot's included). */
export function counterDelta(before, after) {
  // In `after`'s figure: the statement that read `before` (reported later) up to the force-flush
  // that precedes `after`'s reading; not the reading itself. That is after.own − before.own.
  const own = after.own - before.own;
  return { commits: after.commits - before.commits - own, own, rollbacks: after.rollbacks - before.rollbacks, deadlocks: after.deadlocks - before.deadlocks };
}

/**
 * Which transactions wrote a set of conversations' items, and how many rows: the exact count of
 * flush transactions, free of other traffic on the database (every row's xmin is the transaction
 * that inserted it; the flusher writes items in one transaction per batch).
 */
export async function itemTransactions(monitor, schema, conversationIds) {
  const [row] = await monitor.query(
    `SELECT count(*)::int8 AS items, count(DISTINCT xmin::text)::int8 AS transactions
     FROM ${schema}.conversation_items WHERE conversation_id = ANY($1::text[])`,
    [conversationIds],
  );
  return { items: Number(row.items), transactions: Number(row.transactions) };
}

/**
 * What the flushers' backends were doing, sampled: the share of samples waiting on a lock tells
 * whether four flushers really write in parallel or queue behind each other's row locks.
 */
export async function flusherWaits(monitor, applicationName) {
  return monitor.query(
    `SELECT state, wait_event_type AS "type", wait_event AS "event" FROM pg_stat_activity WHERE application_name = $1`,
    [applicationName],
  );
}

/** The PostgreSQL server's main process, when it runs on this machine (for its CPU figures). */
export async function postmasterPid(monitor) {
  try {
    const [row] = await monitor.query('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${row.pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function connectRedis(url) {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** The Redis server's pid, when it runs on this machine. */
export async function redisPid(redis) {
  const info = await redis.info('server');
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  try {
    readFileSync(`/proc/${pid}/stat`);
    return pid;
  } catch {
    return undefined;
  }
}

/** Deletes the stream and every key under its prefix (redis-keys.ts), with SCAN, never KEYS. */
export async function deleteStreamKeys(redis, streamKey) {
  let deleted = 0;
  for (const pattern of [streamKey, `${streamKey}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}

/**
 * The gateway's YAML: one model over a provider nobody calls (the history routes never route a
 * chat request, and a model is required), and the storage section that sets the flushers.
 */
export function gatewayConfig({ streamKey, flush, sessionSecret }) {
  return stringify({
    server: { access_log: false, log_level: 'warn', shutdown_grace_ms: 2000 },
    // One load generator on one address: the free-tier limits are lifted, shedding stays out.
    limits: { tiers: { anonymous: {} } },
    overload: { enabled: false },
    storage: { stream_key: streamKey, flush, drain_ms: 10_000 },
    auth: { session_secret: sessionSecret },
    providers: { unused: { base_url: 'http://127.0.0.1:9/v1' } },
    deployments: { unused: { provider: 'unused', model: 'unused' } },
    models: { unused: { deployments: ['unused'] } },
  });
}

/**
 * Starts `floodgate serve` or `floodgate flush` with the event-loop probe preloaded (its
 * utilisation tells a saturated process from one that waits). `core` pins it when given.
 */
export async function startFloodgate(ctx, { name, command, flush, port, core, applicationName }) {
  const configPath = join(ctx.logDir, `${name}.yaml`);
  writeFileSync(configPath, gatewayConfig({ streamKey: ctx.streamKey, flush, sessionSecret: ctx.sessionSecret }));
  const probeFile = join(ctx.logDir, `probe-${name}.jsonl`);
  // --cpu-prof writes its profile when the process exits after SIGTERM (stop() below).
  const profile = ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const argv = ['node', ...profile, '--import', pathToFileURL(LOOP_PROBE).href, ctx.entry, command, '--config', configPath];
  if (command === 'serve') argv.push('--host', '127.0.0.1', '--port', String(port));
  const logFile = join(ctx.logDir, `${name}.log`);
  const record = startChild(name, argv, {
    core,
    nofile: ctx.nofile,
    env: {
      LOG_LEVEL: command === 'flush' ? 'info' : 'warn',
      REDIS_URL: ctx.redisUrl,
      DATABASE_URL: schemaUrl(ctx.databaseUrl, ctx.schema, applicationName),
      FLOODGATE_SESSION_SECRET: ctx.sessionSecret,
      FLOODGATE_BENCH_PROBE: probeFile,
    },
    logFile,
  });
  if (command === 'serve') {
    await waitUntil(record, async () => {
      const response = await request(`http://127.0.0.1:${port}/readyz`);
      await response.body.dump();
      return response.statusCode === 200;
    });
  } else {
    // The flush command logs once its loops run (run-flushers.ts).
    await waitUntil(record, async () => record.tail.some((line) => line.includes('flushing history from redis')));
  }
  return {
    record,
    probeFile,
    logFile,
    stop: async () => {
      await stopChild(record, { signal: 'SIGTERM', graceMs: 15_000 });
      return record.code === 0 || record.code === 'SIGTERM' ? undefined : `${name} exited with ${record.code}: ${record.tail.slice(-5).join(' | ')}`;
    },
  };
}

/** Mean event-loop utilisation and worst delay from a probe file, between two epoch-ms instants. */
export function loopFigures(probeFile, fromMs, toMs) {
  let text = '';
  try {
    text = readFileSync(probeFile, 'utf8');
  } catch {
    return undefined;
  }
  const samples = text.split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((s) => s.elu !== undefined && s.t > fromMs + 500 && s.t <= toMs + 500);
  if (samples.length === 0) return undefined;
  return {
    elu: samples.reduce((a, s) => a + s.elu, 0) / samples.length,
    delayMaxMs: Math.max(...samples.map((s) => s.delayMax)),
  };
}

/** Deadlock and write-failure lines in a flusher's log (history-errors.ts logs each failed write). */
export function flusherLogProblems(logFile) {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return { deadlocks: 0, failedWrites: 0 };
  }
  const lines = text.split('\n');
  return {
    // SQLSTATE 40P01 is PostgreSQL's deadlock_detected.
    deadlocks: lines.filter((line) => /40P01|deadlock/i.test(line)).length,
    failedWrites: lines.filter((line) => line.includes('history flush failed')).length,
  };
}
