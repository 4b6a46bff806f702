#!/usr/bin/env node
// Fairness benchmark: the day one anonymous client sent 462,000 requests while everyone else sent
// ~10,000, replayed compressed in time against a simulated upstream with a fixed requests/min
// budget. A baseline phase (light clients only) and a contended phase (the same light clients plus
// the heavy one) measure what the heavy client costs everyone else. bench/FAIRNESS-RESULTS.md
// (written by lib/fairness-report.mjs) says what each figure means.
//
//   npm run bench:fairness                ~2.5 minutes: two 60 s phases
//   node bench/fairness.mjs --quick       ~1 minute: two 20 s phases
//   node bench/fairness.mjs --seconds 90 --upstream-burst-ms 1500 --seed 7
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeSchedule, replay, warmUp } from './lib/fairness-load.mjs';
import { markdown, summarizePhase, summaryLines, targets, timeline } from './lib/fairness-report.mjs';
import { counterDelta, MODEL, scrapeGateway, startGateway, startUpstream } from './lib/fairness-setup.mjs';
import { startCpuWindow } from './lib/monitor.mjs';
import { hardNofileLimit, installCleanup, portIsFree, sleep, stopAll, stopChild } from './lib/procs.mjs';
import { inOwnSession, raisePriority } from './lib/session.mjs';
import { LOAD_CORE, startSimulator } from './lib/targets.mjs';
import { summarize } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const USAGE = `usage: node bench/fairness.mjs [--quick] [--seconds 60] [--light-clients 100] [--light-rate 0.5] [--heavy-rate 50]
                             [--quota N] [--upstream-rpm 4200] [--upstream-burst-ms 1000] [--gateway-rpm <upstream-rpm>] [--no-upstream-rate-headers] [--seed 1]
                             [--deadline-ms 30000] [--max-per-client 1000] [--max-total 5000] [--quantum-tokens 1000]
                             [--sim-port 9160] [--upstream-port 9161] [--gateway-port 9260] [--entry dist/main.js]
                             [--out bench/FAIRNESS-RESULTS.md]`;

/** The issue's targets. */
const LIGHT_SUCCESS_FLOOR = 0.995;
const P99_RATIO = 1.2;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      'light-clients': { type: 'string', default: '100' },
      'light-rate': { type: 'string', default: '0.5' },
      'heavy-rate': { type: 'string' },
      quota: { type: 'string' },
      'upstream-rpm': { type: 'string', default: '4200' },
      'upstream-burst-ms': { type: 'string', default: '1000' },
      // The rpm the gateway is told: above the upstream's, it learns the truth from 429s.
      'gateway-rpm': { type: 'string' },
      // Answers without x-ratelimit-* (as Gemini's): only 429s tell the gateway the budget.
      'no-upstream-rate-headers': { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      'deadline-ms': { type: 'string', default: '30000' },
      'max-per-client': { type: 'string', default: '1000' },
      'max-total': { type: 'string', default: '5000' },
      'quantum-tokens': { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '20' },
      'sim-port': { type: 'string', default: '9160' },
      'upstream-port': { type: 'string', default: '9161' },
      'gateway-port': { type: 'string', default: '9260' },
      entry: { type: 'string', default: join(ROOT, 'dist/main.js') },
      out: { type: 'string', default: join(HERE, 'FAIRNESS-RESULTS.md') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const seconds = Number(values.seconds ?? (values.quick ? 20 : 60));
  const lightRate = Number(values['light-rate']);
  const lightClients = Number(values['light-clients']);
  if (!(lightClients >= 1 && lightClients <= 250)) throw new Error(`--light-clients must be 1..250 (one address each in 203.0.113.0/24)\n${USAGE}`);
  return {
    seconds,
    lightClients,
    lightRate,
    // The issue: the heavy client at 100× the rate of a light one.
    heavyRate: Number(values['heavy-rate'] ?? lightRate * 100),
    // The day's quota compressed into the run: 10 requests per second of the phase by default,
    // so that light traffic plus the quota fit the upstream budget and the full demand does not.
    quota: Number(values.quota ?? Math.round(seconds * 10)),
    upstreamRpm: Number(values['upstream-rpm']),
    gatewayRpm: Number(values['gateway-rpm'] ?? values['upstream-rpm']),
    upstreamBurstMs: Number(values['upstream-burst-ms']),
    upstreamRateHeaders: !values['no-upstream-rate-headers'],
    seed: Number(values.seed),
    queue: {
      deadline_ms: Number(values['deadline-ms']),
      max_per_client: Number(values['max-per-client']),
      max_total: Number(values['max-total']),
      quantum_tokens: Number(values['quantum-tokens']),
    },
    warmup: Number(values.warmup),
    ports: { sim: Number(values['sim-port']), upstream: Number(values['upstream-port']), gateway: Number(values['gateway-port']) },
    entry: values.entry,
    simEntry: values.entry,
    out: values.out,
    lightSuccessFloor: LIGHT_SUCCESS_FLOOR,
    p99Ratio: P99_RATIO,
  };
}

const say = (line) => process.stderr.write(`${line}\n`);

async function runPhase(ctx, phase) {
  const { plan } = ctx;
  const schedule = makeSchedule({ seed: plan.seed, lightClients: plan.lightClients, lightRate: plan.lightRate, heavyRate: plan.heavyRate, seconds: plan.seconds, withHeavy: phase.withHeavy });
  say(`[${phase.name}] ${schedule.length} requests over ${plan.seconds} s (${schedule.filter((e) => e.kind === 'heavy').length} from the heavy client)`);
  const upstream = await startUpstream(ctx, phase.name);
  const gateway = await startGateway(ctx, phase.name);
  let result;
  try {
    result = await measure(ctx, phase, schedule, gateway, upstream);
  } finally {
    const stopped = await gateway.stop();
    await upstream.stop();
    if (result) result.problem = result.problem ?? stopped;
  }
  return result;
}

/** Warm-up, then the schedule against a running gateway, with its counters before and after. */
async function measure(ctx, phase, schedule, gateway, upstream) {
  const { plan } = ctx;
  await warmUp({ url: gateway.url, model: MODEL, count: plan.warmup });
  // The warm-up's share of the upstream bucket refills before the measured load starts.
  await sleep(1500);
  const before = await scrapeGateway(gateway.url);
  await upstream.reset();
  const cpuWindow = startCpuWindow({ gateway: gateway.record.pid, simulator: ctx.sim.pid, upstream: upstream.record.pid });
  const run = await replay({
    url: gateway.url,
    model: MODEL,
    schedule,
    onProgress: (p) => say(`[${phase.name}] t=${p.elapsedS.toFixed(0)}s sent ${p.sent}, in flight ${p.inFlight}`),
  });
  const cpu = cpuWindow();
  const problem = gateway.record.exited ? `gateway exited during the phase (${gateway.record.code})` : undefined;
  const after = problem ? before : await scrapeGateway(gateway.url);
  const upstreamStats = await upstream.stats();
  return {
    name: phase.name,
    withHeavy: phase.withHeavy,
    summary: summarizePhase({ records: run.records, quota: plan.quota }),
    timeline: timeline(run.records, plan.seconds, upstreamStats.perSecond),
    upstream: upstreamStats,
    gateway: counterDelta(before, after),
    sendLag: summarize(run.sendLag.values()),
    late: run.late,
    maxInFlight: run.maxInFlight,
    harnessErrors: run.harnessErrors,
    cpu,
    problem,
    records: run.records,
    logFile: gateway.logFile,
  };
}

async function main() {
  const plan = options();
  const startedAt = new Date();
  // The harness and its load generator share core 0 with the simulator; the gateway has core 1.
  spawnSync('taskset', ['-a', '-cp', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  const notes = [];
  const priorityNote = raisePriority();
  if (priorityNote) notes.push(priorityNote);
  if (!existsSync(plan.entry)) throw new Error(`${plan.entry} is missing: run \`npm run build\` first (or use \`npm run bench:fairness\`).`);
  for (const [what, port] of Object.entries(plan.ports)) {
    if (!(await portIsFree(port))) throw new Error(`port ${port} (${what}) is in use; pick another with --${what}-port`);
  }
  // daily_requests resets at 00:00 UTC: a phase across midnight would hand the heavy client a second quota.
  const estimateS = 2 * (plan.seconds + 10);
  const midnight = new Date(startedAt);
  midnight.setUTCHours(24, 0, 0, 0);
  if (midnight - startedAt < estimateS * 1000) notes.push('the run crosses 00:00 UTC, when daily quotas reset: the heavy client\'s quota figure is not valid for this run.');
  const logDir = mkdtempSync(join(tmpdir(), 'floodgate-fairness-'));
  const ctx = {
    opts: { simEntry: plan.entry, entry: plan.entry },
    plan,
    ports: plan.ports,
    nofile: hardNofileLimit(),
    logDir,
    scenarios: { 'sim-chat': { upstreamModel: 'sim-chat', simHeaders: {} } },
    sim: null,
  };
  installCleanup();
  say(`logs: ${logDir}\nphases: baseline, contended (~${estimateS} s)`);
  ctx.sim = await startSimulator(ctx);
  const phases = [];
  for (const phase of [{ name: 'baseline', withHeavy: false }, { name: 'contended', withHeavy: true }]) {
    if (ctx.sim.exited) throw new Error(`the simulator exited (${ctx.sim.code}): ${ctx.sim.tail.slice(-5).join(' | ')}`);
    const result = await runPhase(ctx, phase);
    const s = result.summary;
    say(`[${phase.name}] light ${s.light.served}/${s.light.sent} p99 ${s.light.latency?.p99?.toFixed(0)} ms${s.heavy ? `, heavy served ${s.heavy.served} admitted ${s.heavy.admitted} of quota ${s.heavy.quota}` : ''}, upstream 429s ${result.upstream.rejected429}${result.problem ? `, PROBLEM: ${result.problem}` : ''}`);
    phases.push(result);
  }
  await stopChild(ctx.sim);
  await stopAll();

  const verdicts = targets(phases[0], phases[1], plan);
  const facts = { startedAt, finishedAt: new Date(), node: process.version, nproc: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown CPU', commit: commitMeasured(plan.out) };
  const command = `node bench/fairness.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const text = markdown({ plan, phases, verdicts, facts, command, notes });
  writeFileSync(plan.out, `${text}\n${handWrittenNotes(plan.out)}`);
  // Every request's record, for digging further; kept with the logs, outside the repository.
  const jsonFile = join(logDir, 'fairness.json');
  writeFileSync(jsonFile, `${JSON.stringify({ plan, facts, verdicts, phases }, null, 1)}\n`);
  for (const line of summaryLines(phases, verdicts)) console.log(line);
  say(`\nwritten: ${relative(process.cwd(), plan.out)}; records: ${jsonFile}; logs: ${logDir}`);
  const failed = verdicts.some((v) => !v.pass) || phases.some((p) => p.problem || Object.keys(p.harnessErrors).length > 0);
  process.exitCode = failed ? 3 : 0;
}

/** The commit the run measured, marked when the working tree differs from it. */
function commitMeasured(out) {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  // The results file itself, rewritten by every run, does not count.
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', `:!${relative(ROOT, out)}`], { cwd: ROOT, encoding: 'utf8' });
  const dirty = status.stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' plus uncommitted changes' : ''}`;
}

/** A "## Notes" section written by hand at the end of the previous results: analysis outlives one run. */
function handWrittenNotes(path) {
  if (!existsSync(path)) return '';
  const old = readFileSync(path, 'utf8');
  const at = old.indexOf('\n## Notes');
  return at < 0 ? '' : `\n${old.slice(at).trim()}\n`;
}

inOwnSession(fileURLToPath(import.meta.url), () =>
  main().catch(async (error) => {
    console.error(`bench:fairness: ${error.message}`);
    await stopAll();
    process.exit(1);
  }),
);
