// The scale-out history's crash test, with real processes: one `serve` that only appends
// (flushers: 0) and separate `flush` processes with the crash-point hook, under steady load from
// several clients. Flushers are killed with SIGKILL between their database commit and their XACK,
// over and over, and the gateway itself is killed twice mid-load. Afterwards, every item the
// clients were answered 200 for is in the database exactly once, in place and in order; items
// whose success the clients never heard (in flight at a kill) may be there too, and are counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { migrate } from '../src/storage/migrate.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';
import { testDatabase, type TestDatabase } from './support/databases.js';
import { dropRedisKeys, eventually, REDIS_URL } from './support/history-backends.js';
import { configYaml, crashPointEntries, flusherReady, listeningUrl, scratchDir, spawnFloodgate, type FloodgateProcess } from './support/crash-processes.js';
import { audit, auditFailures, call, Ledger, listAllItems, message, newSession, storedItems } from './support/crash-ledger.js';

/** Kills that must land in the pause between a flusher's commit and its XACK. */
const FLUSHER_KILLS = 6;
/** A loaded machine may see a crash-point line too late (the flusher acknowledged and went on): such kills are counted apart. */
const MAX_FLUSHER_KILLS = 3 * FLUSHER_KILLS;
const GATEWAY_KILLS = 2;
/** Long enough that the test sees the crash-point line and kills inside the pause. */
const CRASH_POINT_MS = 1_500;
/** Longer than a live flusher's batch in hand (gathering, writing, the pause), so only dead flushers' batches are claimed. */
const CLAIM_IDLE_MS = 3_000;
const CLIENTS = 4;
const GROUP = 'flushers';

const tag = randomBytes(4).toString('hex');
const streamKey = `floodgate:test:crash:${process.pid}:${tag}`;
const prefix = `ledger:${tag}:`;
const sharedEnv = { FLOODGATE_SESSION_SECRET: randomBytes(32).toString('base64url') };

let database: TestDatabase;
let simulator: RunningSimulator;
let redis: Redis;
let files: ReturnType<typeof scratchDir>;
const started = new Set<FloodgateProcess>();

before(async () => {
  database = await testDatabase('postgres');
  await migrate(database.db);
  simulator = await startSimulator({ host: '127.0.0.1', port: 0, pacing: 'instant' });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  files = scratchDir();
  const storage = (flushers: number) => ({
    database_url: database.url, redis_url: REDIS_URL, stream_key: streamKey,
    flush: { batch_size: 50, interval_ms: 100, retry_ms: 100, max_pending: 100_000, flushers, claim_idle_ms: CLAIM_IDLE_MS },
  });
  files.write('gateway.yaml', configYaml(simulator.url, storage(0), { shutdown_grace_ms: 1_000 }));
  files.write('flusher.yaml', configYaml(simulator.url, storage(1)));
});

after(async () => {
  for (const child of started) child.kill('SIGKILL');
  await Promise.all([...started].map((child) => child.exited));
  await dropRedisKeys(streamKey);
  await redis?.quit();
  await simulator?.close();
  await database?.drop();
  files?.remove();
});

function start(args: string[], env: Record<string, string> = {}): FloodgateProcess {
  const child = spawnFloodgate(args, { ...sharedEnv, ...env });
  started.add(child);
  return child;
}

/** A flusher's entries still unacknowledged in the group: stream id, kind, row id, times delivered. */
async function pendingOf(pid: number): Promise<Array<{ entry: string; kind: string; id: string; deliveries: number }>> {
  const consumers = (await redis.xinfo('CONSUMERS', streamKey, GROUP)) as Array<Array<string | number>>;
  const names = consumers.map((fields) => String(fields[1])).filter((name) => name.startsWith(`${hostname()}-${pid}-`));
  const found = [];
  for (const name of names) {
    const pending = (await redis.xpending(streamKey, GROUP, '-', '+', 10_000, name)) as Array<[string, string, number, number]>;
    for (const [entry, , , deliveries] of pending) {
      const [stored] = await redis.xrange(streamKey, entry, entry);
      const fields = stored?.[1] ?? [];
      const kind = fields[fields.indexOf('k') + 1] ?? '?';
      const row = JSON.parse(fields[fields.indexOf('d') + 1] ?? '{}') as { id?: string };
      found.push({ entry, kind, id: row.id ?? '?', deliveries });
    }
  }
  return found;
}

/** How many of these rows the database holds. */
async function committed(rows: ReadonlyArray<{ kind: string; id: string }>): Promise<number> {
  const items = rows.filter((row) => row.kind === 'item').map((row) => row.id);
  const conversations = rows.filter((row) => row.kind === 'conversation').map((row) => row.id);
  const [found] = await database.db.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM conversation_items WHERE id = ANY($1::text[])) + (SELECT count(*) FROM conversations WHERE id = ANY($2::text[])) AS n`,
    [items, conversations],
  );
  return Number(found!.n);
}

test('kill -9 of flushers between commit and XACK, and of the gateway, under load: 0 lost, 0 duplicated', async () => {
  const startedAt = Date.now();
  const phases: string[] = [];
  const phase = (name: string) => phases.push(`${name} ${Date.now() - startedAt}`);
  const ledger = new Ledger();
  const problems: string[] = [];
  const statuses = new Map<string, number>();
  const count = (what: string) => statuses.set(what, (statuses.get(what) ?? 0) + 1);

  // --- the gateway: appends only; killed and restarted on a new port that the clients switch to
  let gateway = start(['serve', '--config', files.path('gateway.yaml')]);
  let baseUrl = await listeningUrl(gateway);

  // --- the flushers: two at a time, each killed at its crash point until enough kills landed there
  interface Kill { pid: number; committedEntries: number; pending: number; inDatabase: number; redelivered: boolean }
  /** Kills that landed between commit and XACK: the flusher held exactly its committed batch. */
  const kills: Kill[] = [];
  /** Kills that came too late: the flusher had acknowledged that batch and was on to the next. */
  const late: Kill[] = [];
  let killsStarted = 0;
  let killsInProgress = 0;
  let killing = true;
  /** Flushers alive, each with its start (a SIGTERM before its handler is installed would just kill it). */
  const running = new Map<FloodgateProcess, Promise<void>>();
  const startFlusher = (crashPoint: boolean): FloodgateProcess => {
    const hook: Record<string, string> = crashPoint ? { FLOODGATE_CRASHPOINT_AFTER_COMMIT_MS: String(CRASH_POINT_MS) } : {};
    const flusher = start(['flush', '--config', files.path('flusher.yaml')], { LOG_LEVEL: 'info', ...hook });
    const ready = flusherReady(flusher);
    ready.catch(() => {});
    running.set(flusher, ready);
    let doomed = false;
    void flusher.exited.then((exit) => {
      running.delete(flusher);
      if (!doomed && exit.code !== 0 && exit.signal === null) problems.push(`flusher ${flusher.pid} failed (${exit.code}):\n${flusher.output()}`);
    });
    flusher.onLine((line) => {
      const entries = crashPointEntries(line);
      if (entries === undefined || doomed || !killing || killsStarted >= MAX_FLUSHER_KILLS) return;
      doomed = true;
      killsStarted += 1;
      killsInProgress += 1;
      flusher.kill('SIGKILL');
      void (async () => {
        const exit = await flusher.exited;
        if (exit.signal !== 'SIGKILL') problems.push(`flusher ${flusher.pid} exited with ${exit.code} before the kill`);
        // Killed in its pause, it leaves exactly the batch it committed unacknowledged.
        const pending = await pendingOf(flusher.pid);
        const kill = {
          pid: flusher.pid, committedEntries: entries, pending: pending.length,
          inDatabase: await committed(pending), redelivered: pending.some((p) => p.deliveries > 1),
        };
        (kill.pending === entries && kill.inDatabase === entries ? kills : late).push(kill);
        if (kills.length >= FLUSHER_KILLS) killing = false;
        startFlusher(true);
      })().catch((error: unknown) => problems.push(`kill: ${String(error)}`)).finally(() => (killsInProgress -= 1));
    });
    return flusher;
  };
  startFlusher(true);
  startFlusher(true);

  // --- the load: each client keeps a session, a conversation of up to 15 items, and adds 1-3 at a time
  let loading = true;
  let attempt = 0;
  const client = async (n: number): Promise<void> => {
    let token: string | undefined;
    let conversation: string | undefined;
    let itemsInConversation = 0;
    while (loading) {
      const url = baseUrl;
      try {
        if (!token) {
          token = await newSession(url);
        } else if (!conversation || itemsInConversation >= 15) {
          const reply = await call(url, 'POST', '/v1/conversations', token, { metadata: { client: String(n) } });
          count(String(reply.status));
          if (reply.status === 200) {
            conversation = (reply.body as { id: string }).id;
            ledger.conversations.set(conversation, token);
            itemsInConversation = 0;
          }
        } else {
          const texts = Array.from({ length: 1 + (attempt % 3) }, () => `${prefix}${attempt++}`);
          const reply = await call(url, 'POST', `/v1/conversations/${conversation}/items`, token, { items: texts.map(message) });
          count(String(reply.status));
          if (reply.status === 200) {
            ledger.addReply(conversation, texts, reply);
            itemsInConversation += texts.length;
          } else if (reply.status !== 503) {
            problems.push(`add items: ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
          }
        }
      } catch (error) {
        const text = (error as Error).message;
        if (text.startsWith('added ')) problems.push(text);
        else count('no reply');
        await sleep(50);
      }
      await sleep(5);
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));

  try {
    await eventually('the load is flowing', () => ledger.items.size >= 100, 30_000);
    for (let g = 1; g <= GATEWAY_KILLS; g++) {
      await eventually(`${2 * g} flusher kills`, () => kills.length >= 2 * g, 30_000);
      gateway.kill('SIGKILL');
      assert.equal((await gateway.exited).signal, 'SIGKILL');
      const before = ledger.items.size;
      gateway = start(['serve', '--config', files.path('gateway.yaml')]);
      baseUrl = await listeningUrl(gateway);
      phase(`gateway restarted`);
      await eventually('clients succeed again after the gateway restarted', () => ledger.items.size >= before + 50, 30_000);
    }
    await eventually(`${FLUSHER_KILLS} flusher kills`, () => kills.length >= FLUSHER_KILLS, 30_000);
    phase('kills done');
  } finally {
    killing = false;
    loading = false;
    await Promise.all(clients);
  }

  // --- the end: the crash-point flushers stop gracefully; one without the hook finishes the rest
  await eventually('the last kill is done', () => killsInProgress === 0);
  const crashing = [...running];
  for (const [flusher, ready] of crashing) {
    await ready;
    flusher.kill('SIGTERM');
  }
  for (const [flusher] of crashing) assert.deepEqual(await flusher.exited, { code: 0, signal: null }, `flusher ${flusher.pid} stops on SIGTERM:\n${flusher.output()}`);
  phase('crash-point flushers stopped');
  const last = startFlusher(false);
  await eventually('the stream is empty and nothing is pending', async () => {
    const summary = (await redis.xpending(streamKey, GROUP)) as [number, ...unknown[]];
    return (await redis.xlen(streamKey)) === 0 && summary[0] === 0;
  }, 30_000);
  phase('stream empty');

  const found = await audit(database.db, ledger, prefix);
  const stored = await storedItems(database.db);
  const totals = Object.fromEntries(statuses);
  console.log(`history-crash: ${kills.length} flusher kills at the crash point (${kills.filter((k) => k.redelivered).length} of a replayed batch, ` +
    `${kills.reduce((n, k) => n + k.committedEntries, 0)} committed entries left unacknowledged), ${late.length} too late for it, ${GATEWAY_KILLS} gateway kills; ` +
    `${ledger.items.size} items in ${ledger.conversations.size} conversations answered 200, ${stored.length} stored, ` +
    `${found.notInLedger} stored but not in the ledger, ${auditFailures(found).length} audit failures; replies ${JSON.stringify(totals)}; ms since start: ${phases.join(', ')}`);

  assert.deepEqual(problems, []);
  assert.deepEqual(auditFailures(found), []);
  assert.equal(stored.filter((row) => row.text?.startsWith(prefix)).length, ledger.items.size + found.notInLedger);
  assert.ok(kills.length >= FLUSHER_KILLS, `${kills.length} kills between commit and XACK (${late.length} late): ${JSON.stringify(late)}`);
  assert.ok(kills.every((kill) => kill.committedEntries > 0));
  // Each killed flusher's entries were later claimed, written again (as no-ops) and acknowledged by another.
  const consumers = (await redis.xinfo('CONSUMERS', streamKey, GROUP)) as Array<Array<string | number>>;
  for (const kill of [...kills, ...late]) {
    const mine = consumers.filter((fields) => String(fields[1]).startsWith(`${hostname()}-${kill.pid}-`));
    assert.equal(mine.length, 1, `the killed flusher ${kill.pid} is still a consumer (it never retired)`);
    assert.equal(mine[0]![3], 0, `nothing is left pending under the killed flusher ${kill.pid}`);
  }

  // Reads through the API (every page, oldest first) match the database.
  const busiest = [...ledger.conversations.keys()]
    .map((id) => ({ id, rows: stored.filter((row) => row.conversationId === id) }))
    .sort((a, b) => b.rows.length - a.rows.length)
    .slice(0, 5);
  for (const { id, rows } of busiest) {
    const listed = await listAllItems(baseUrl, ledger.conversations.get(id)!, id, 7);
    assert.deepEqual(listed.map((item) => item.id), rows.map((row) => row.id), `conversation ${id} reads as stored`);
  }

  last.kill('SIGTERM');
  gateway.kill('SIGTERM');
  await Promise.all([last.exited, gateway.exited]);
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
