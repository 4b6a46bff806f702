#!/usr/bin/env node
// Floodgate benchmark: the simulator directly, nginx in front of it, and Floodgate in front of
// it, measured in one run on the same machine. See bench/README.md for what each number means.
//
//   npm run bench                      full run (~7 minutes)
//   node bench/run.mjs --quick         ~2-minute smoke run
//   node bench/run.mjs --only open,ttfb --profile
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, setPriority, tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nginxVersion } from './lib/nginx.mjs';
import { hardNofileLimit, installCleanup, portIsFree, stopAll, stopChild } from './lib/procs.mjs';
import { render } from './lib/report.mjs';
import { idleMemorySection, openLoopSection, slowSection, throughputSection, ttfbSection } from './lib/sections.mjs';
import { loadBenchConfig, startSimulator } from './lib/targets.mjs';
import { summarizeProfile } from './profile-summary.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const SECTIONS = ['throughput', 'open', 'ttfb', 'rss', 'slow'];
const USAGE = `usage: node bench/run.mjs [--quick] [--only ${SECTIONS.join(',')}] [--targets direct,nginx,floodgate]
                         [--slow-n N] [--slow-targets direct,nginx,floodgate] [--slow-variants paced,held] [--profile]
                         [--rates 1000,2000,5000] [--seconds S]
                         [--sim-port 9100] [--nginx-port 9300] [--floodgate-port 9200]
                         [--sim-entry dist/main.js] [--gateway-entry dist/main.js]`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      targets: { type: 'string', default: 'direct,nginx,floodgate' },
      'slow-n': { type: 'string' },
      'slow-targets': { type: 'string' },
      'slow-variants': { type: 'string' },
      profile: { type: 'boolean', default: false },
      rates: { type: 'string' },
      seconds: { type: 'string' },
      'sim-port': { type: 'string', default: '9100' },
      'nginx-port': { type: 'string', default: '9300' },
      'floodgate-port': { type: 'string', default: '9200' },
      'sim-entry': { type: 'string', default: join(ROOT, 'dist/main.js') },
      'gateway-entry': { type: 'string', default: join(ROOT, 'dist/main.js') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : SECTIONS;
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section "${s}"\n${USAGE}`);
  return {
    quick: values.quick,
    only,
    targets: values.targets.split(','),
    slowN: values['slow-n'] ? Number(values['slow-n']) : undefined,
    slowTargets: values['slow-targets']?.split(','),
    slowVariants: values['slow-variants']?.split(','),
    profile: values.profile,
    rates: values.rates?.split(',').map(Number),
    seconds: values.seconds ? Number(values.seconds) : undefined,
    ports: { sim: Number(values['sim-port']), nginx: Number(values['nginx-port']), floodgate: Number(values['floodgate-port']) },
    simEntry: values['sim-entry'],
    gatewayEntry: values['gateway-entry'],
  };
}

/**
 * How long and how hard. Quick keeps every section but shortens it, so a smoke run exercises
 * the same code paths as the real one.
 */
function makePlan(opts, nofile, notes) {
  // A proxy holding N streams needs a socket to the client and one to the simulator for each.
  const fitN = Math.floor((nofile - 400) / 2 / 100) * 100;
  const wantN = opts.slowN ?? (opts.quick ? 2000 : 10_000);
  const n = Math.min(wantN, fitN);
  if (n < wantN) {
    notes.push(
      `slow streams: N lowered from ${wantN} to ${n}: the hard open-file limit here is ${nofile} (it cannot be raised without CAP_SYS_RESOURCE), and a proxy needs 2 descriptors per stream.`,
    );
  }
  const pick = (list) => (opts.slowTargets ?? list).filter((t) => opts.targets.includes(t));
  // paced: the streams as specified (a token every 100 ms). On two cores the simulator cannot
  // produce 10,000 x 10 chunks/s, so these streams stretch and fewer are open at once than N.
  // held: a token a second, which the simulator can sustain, so all N are open together and
  // the proxy's memory per open stream is measured at the full N.
  const variants = [{ name: 'paced', model: 'sim-slow', targets: pick(opts.quick ? ['nginx', 'floodgate'] : ['direct', 'nginx', 'floodgate']) }];
  if (!opts.quick || opts.slowVariants?.includes('held')) variants.push({ name: 'held', model: 'sim-held', targets: pick(['nginx', 'floodgate']) });
  const onlyRss = opts.only.includes('rss') && !opts.only.includes('open');
  const seconds = (full, quick) => opts.seconds ?? (opts.quick ? quick : full);
  return {
    throughput: { connections: [16, 64, 256], warmupS: opts.quick ? 1 : 2, seconds: seconds(8, 3) },
    // --only rss: the 5,000 req/s level alone is what the memory report needs.
    open: { rates: opts.rates ?? (onlyRss ? [5000] : [1000, 2000, 5000]), warmupS: opts.quick ? 1 : 2, seconds: seconds(12, 4) },
    ttfb: { concurrency: 16, warmupS: opts.quick ? 1 : 2, seconds: seconds(10, 3) },
    slow: { n, rampS: 3, variants: opts.slowVariants ? variants.filter((v) => opts.slowVariants.includes(v.name)) : variants },
    // Measurements disturbed by other processes are repeated up to this many times in all.
    attempts: opts.quick ? 1 : 3,
  };
}

function gitCommit() {
  const out = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', 'src'], { encoding: 'utf8' }).stdout.trim() ? '+dirty src' : '';
  return `${out.stdout.trim()}${dirty}`;
}

async function preflight(opts, notes) {
  if (!existsSync(opts.gatewayEntry) || !existsSync(opts.simEntry)) throw new Error(`${opts.gatewayEntry} is missing: run \`npm run build\` first (or use \`npm run bench\`).`);
  if (cpus().length < 2) notes.push(`only ${cpus().length} core: proxy and load cannot be separated, numbers are not comparable with a 2-core run.`);
  if (cpus().length > 2) notes.push(`${cpus().length} cores; the benchmark still uses only cores 0 and 1.`);
  if (opts.targets.includes('nginx') && !nginxVersion()) throw new Error('nginx is not installed: apt-get install nginx (or pass --targets direct,floodgate)');
  if (opts.only.includes('throughput') && spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed: apt-get install wrk (or leave out the throughput section)');
  for (const [what, port] of Object.entries(opts.ports)) {
    if (!(await portIsFree(port))) throw new Error(`port ${port} (${what}) is already in use; pick another with --${what === 'floodgate' ? 'floodgate' : what}-port`);
  }
}

/**
 * Linux groups CPU time by session ("autogroup") before it looks at nice values, so a nice
 * value alone does nothing against a colleague's test run in another terminal. The harness
 * therefore runs in its own session (see the re-exec at the bottom) and raises that session's
 * weight; every child inherits both. Needs root; without it the foreign-CPU checks still flag
 * and repeat disturbed measurements.
 */
function raisePriority(notes) {
  try {
    writeFileSync('/proc/self/autogroup', '-10');
    setPriority(-10);
  } catch {
    notes.push('could not raise scheduling priority (needs root): other processes may disturb measurements.');
  }
}

async function main() {
  const opts = options();
  const notes = [];
  const startedAt = new Date();
  // The harness itself does bookkeeping only; keep it off the proxy's core.
  spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  raisePriority(notes);
  await preflight(opts, notes);
  const nofile = hardNofileLimit();
  const plan = makePlan(opts, nofile, notes);
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(HERE, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const logDir = mkdtempSync(join(tmpdir(), `floodgate-bench-${stamp}-`));
  const profileDir = join(resultsDir, `${stamp}-profiles`);
  if (opts.profile) mkdirSync(profileDir, { recursive: true });
  const { text: configText, scenarios } = loadBenchConfig(join(HERE, 'floodgate.bench.yaml'), opts.ports.sim);

  const results = {
    meta: {
      startedAt: startedAt.toISOString(),
      mode: opts.quick ? 'quick' : 'full',
      sections: opts.only,
      targets: opts.targets,
      commit: gitCommit(),
      node: process.version,
      nginx: nginxVersion(),
      cpuModel: cpus()[0]?.model,
      cores: cpus().length,
      nofileLimit: nofile,
      plan,
      logDir,
    },
    memory: {},
    failures: [],
    notes,
  };
  const ctx = { opts, plan, ports: opts.ports, nofile, logDir, profileDir, configText, scenarios, targets: opts.targets, results, sim: null };
  installCleanup();

  process.stderr.write(`logs: ${logDir}\nplan: ${JSON.stringify(plan)}\n`);
  ctx.sim = await startSimulator(ctx);
  const sections = { throughput: throughputSection, open: openLoopSection, ttfb: ttfbSection, rss: idleMemorySection, slow: slowSection };
  for (const name of SECTIONS) {
    if (!opts.only.includes(name)) continue;
    if (name === 'rss' && !opts.only.includes('open')) await openLoopSection(ctx);
    if (ctx.sim.exited) {
      results.failures.push({ section: name, target: 'simulator', message: `simulator exited (${ctx.sim.code}); restarting`, log: ctx.sim.tail.slice(-10) });
      ctx.sim = await startSimulator(ctx);
    }
    await sections[name](ctx);
  }
  await stopChild(ctx.sim);
  await stopAll();

  if (opts.profile) {
    results.profiles = readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => ({ ...summarizeProfile(join(profileDir, f), 40), path: relative(ROOT, join(profileDir, f)) }));
  }
  results.meta.finishedAt = new Date().toISOString();
  const file = join(resultsDir, `${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const { text, errorCount } = render(results);
  console.log(text);
  console.log(`\nresults: ${relative(process.cwd(), file)}   logs: ${logDir}`);
  // Non-zero when anything failed a check, so a script running the bench notices.
  process.exitCode = errorCount > 0 ? 3 : 0;
}

if (process.env.FLOODGATE_BENCH_SESSION !== '1' && process.argv.every((a) => a !== '--help' && a !== '-h')) {
  // Start over in a new session (own autogroup, see raisePriority). The terminal's Ctrl-C only
  // reaches this parent, so it is passed on; the child then cleans up its own processes.
  const child = spawn('setsid', ['-w', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, FLOODGATE_BENCH_SESSION: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
} else {
  main().catch(async (error) => {
    console.error(`bench: ${error.message}`);
    await stopAll();
    process.exit(1);
  });
}
