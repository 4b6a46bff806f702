// The three paths a request can take to the simulator, and how to start and stop each:
//   direct     load generator -> simulator
//   nginx      load generator -> nginx -> simulator      (the floor any proxy pays)
//   floodgate  load generator -> Floodgate -> simulator
// Proxies run on core 1; the simulator and load generators on core 0. One proxy at a time.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { checkCompletion } from './check.mjs';
import { startChild, stopChild, waitUntil } from './procs.mjs';
import { writeNginxConfig } from './nginx.mjs';

const LOOP_PROBE = fileURLToPath(new URL('./loop-probe.mjs', import.meta.url));
export const LOAD_CORE = 0;
export const PROXY_CORE = 1;
const PROMPT = [{ role: 'user', content: 'Tell me something about rivers.' }];

/**
 * Reads the Floodgate bench config, which is also the single source of the simulator headers
 * each scenario uses, and rewrites the simulator port if the run uses another one.
 */
export function loadBenchConfig(path, simPort) {
  const text = readFileSync(path, 'utf8').replaceAll('127.0.0.1:9100', `127.0.0.1:${simPort}`);
  const raw = parseYaml(text);
  const scenarios = {};
  for (const [model, def] of Object.entries(raw.models)) {
    const deployment = raw.deployments[def.deployments[0]];
    scenarios[model] = { gatewayModel: model, upstreamModel: deployment.model, simHeaders: deployment.headers ?? {} };
  }
  return { text, scenarios };
}

/** The request each target receives for a scenario; see the file header for why they differ. */
export function requestFor(target, scenario, { stream = false } = {}) {
  const viaGateway = target.name === 'floodgate';
  const body = { model: viaGateway ? scenario.gatewayModel : scenario.upstreamModel, messages: PROMPT };
  if (stream) body.stream = true;
  return {
    url: `http://127.0.0.1:${target.port}/v1/chat/completions`,
    headers: viaGateway ? {} : { ...scenario.simHeaders },
    body,
  };
}

async function answersChat(port, model, headers = {}) {
  const response = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: PROMPT }),
  });
  const problem = checkCompletion(response.statusCode, await response.body.text());
  if (problem) throw new Error(problem);
  return true;
}

export async function startSimulator(ctx) {
  const record = startChild(
    'simulator',
    ['node', ctx.opts.simEntry, 'simulate', '--host', '127.0.0.1', '--port', String(ctx.ports.sim), '--pacing', 'instant'],
    { core: LOAD_CORE, nofile: ctx.nofile, env: { LOG_LEVEL: 'warn' }, logFile: join(ctx.logDir, 'simulator.log') },
  );
  const chat = ctx.scenarios['sim-chat'];
  await waitUntil(record, () => answersChat(ctx.ports.sim, chat.upstreamModel, chat.simHeaders));
  return record;
}

/** Starts the proxy for `name` (none for direct) and returns the target description. */
export async function startTarget(ctx, name, label) {
  if (name === 'direct') return { name, port: ctx.ports.sim, proxy: null, stop: async () => {} };
  if (name === 'nginx') return startNginx(ctx);
  return startFloodgate(ctx, label);
}

async function startNginx(ctx) {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-bench-nginx-'));
  const conf = writeNginxConfig(dir, { listenPort: ctx.ports.nginx, upstreamPort: ctx.ports.sim, nofile: ctx.nofile });
  const record = startChild('nginx', ['nginx', '-e', join(dir, 'error.log'), '-p', dir, '-c', conf, '-g', 'daemon off;'], {
    core: PROXY_CORE,
    nofile: ctx.nofile,
  });
  const chat = ctx.scenarios['sim-chat'];
  await waitUntil(record, () => answersChat(ctx.ports.nginx, chat.upstreamModel, chat.simHeaders));
  return {
    name: 'nginx',
    port: ctx.ports.nginx,
    proxy: record,
    stop: async () => {
      await stopChild(record, { signal: 'SIGTERM' });
      let errors = '';
      try {
        errors = readFileSync(join(dir, 'error.log'), 'utf8').trim();
      } catch {
        // no log written
      }
      rmSync(dir, { recursive: true, force: true });
      // Warnings (such as worker_connections above the file limit, on purpose) are not failures.
      const serious = errors.split('\n').filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
      return serious.length ? { log: [`${serious.length} error lines in nginx's log, the last:`, ...serious.slice(-5)] } : {};
    },
  };
}

/** Node flags in package.json's start script (`node <flags> dist/main.js serve`). */
function startFlags() {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
  const words = String(pkg.scripts?.start ?? '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1).filter((word) => word.startsWith('--'));
}

async function startFloodgate(ctx, label) {
  const configPath = join(ctx.logDir, 'floodgate.bench.yaml');
  writeFileSync(configPath, ctx.configText);
  const probeFile = join(ctx.logDir, `probe-${label}.jsonl`);
  // The same V8 flags `npm start` uses (package.json), plus any given for an experiment.
  const nodeArgs = [...startFlags(), ...(process.env.FLOODGATE_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), '--expose-gc', '--import', pathToFileURL(LOOP_PROBE).href];
  if (ctx.opts.profile) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=floodgate-${label}.cpuprofile`);
  const record = startChild(
    'floodgate',
    ['node', ...nodeArgs, ctx.opts.gatewayEntry, 'serve', '--config', configPath, '--host', '127.0.0.1', '--port', String(ctx.ports.floodgate)],
    { core: PROXY_CORE, nofile: ctx.nofile, env: { LOG_LEVEL: 'warn', FLOODGATE_BENCH_PROBE: probeFile }, logFile: join(ctx.logDir, `floodgate-${label}.log`) },
  );
  await waitUntil(record, () => answersChat(ctx.ports.floodgate, 'sim-chat'));
  return {
    name: 'floodgate',
    port: ctx.ports.floodgate,
    proxy: record,
    probeFile,
    stop: async () => {
      // SIGTERM drains (shutdown_grace_ms in the bench config) and exits, which is also what
      // makes --cpu-prof write its profile.
      await stopChild(record, { signal: 'SIGTERM', graceMs: 15_000 });
      const crashed = record.code !== 0 && record.code !== 'SIGTERM';
      return crashed ? { exit: record.code, log: record.tail.slice(-20) } : {};
    },
  };
}
