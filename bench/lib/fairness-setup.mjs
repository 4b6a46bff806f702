// The fairness benchmark's world: the rate-limited upstream in front of the simulator, the
// gateway configured with that upstream's budget and a per-address daily quota, and the gateway's
// own counters (its /metrics) read before and after each phase.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { stringify } from 'yaml';
import { startChild, stopChild, waitUntil } from './procs.mjs';
import { LOAD_CORE } from './targets.mjs';
import { scrapeSamples, startGatewayProcess } from './gateway-process.mjs';

export const MODEL = 'fair-chat';
export const DEPLOYMENT = 'upstream';

/**
 * The simulator's own "realistic" pacing for sim-chat (first token after 200 ms, 50 tokens/s) on a
 * 20-token answer: about 600 ms a call, so queueing for budget shows against an LLM-like latency
 * rather than against the few ms of an instant answer.
 */
export const PACING = { 'x-sim-ttft-ms': '200', 'x-sim-tps': '50', 'x-sim-tokens': '20' };

const UPSTREAM_SCRIPT = fileURLToPath(new URL('./fairness-upstream.mjs', import.meta.url));

/**
 * Everyone is keyless, as on the real day, and told apart by address (X-Forwarded-For from the
 * trusted load generator). The anonymous tier's only limit is the compressed daily quota, so the
 * heavy client's admitted count is exact whatever the timing; light clients never come near it.
 */
export function gatewayConfig({ upstreamPort, plan }) {
  return stringify({
    server: { access_log: false, log_level: 'warn', shutdown_grace_ms: 2000 },
    storage: { data_dir: 'memory://' },
    limits: { backend: 'memory', trusted_proxies: ['127.0.0.1'], tiers: { anonymous: { daily_requests: plan.quota } } },
    queue: plan.queue,
    // Load shedding would answer 503 for the machine's noise, not for fairness: measured elsewhere.
    overload: { enabled: false },
    providers: { sim: { base_url: `http://127.0.0.1:${upstreamPort}/v1`, max_connections: 1024 } },
    deployments: { [DEPLOYMENT]: { provider: 'sim', model: 'sim-chat', headers: PACING, limits: { rpm: plan.gatewayRpm } } },
    models: { [MODEL]: { deployments: [DEPLOYMENT], context_length: 16384 } },
  });
}

/** The rate-limiting proxy (fairness-upstream.mjs), fresh per phase: an empty bucket, zero counts. */
export async function startUpstream(ctx, label) {
  const record = startChild(
    'upstream',
    ['node', UPSTREAM_SCRIPT, '--port', String(ctx.ports.upstream), '--target', String(ctx.ports.sim), '--rpm', String(ctx.plan.upstreamRpm), '--burst-ms', String(ctx.plan.upstreamBurstMs), ...(ctx.plan.upstreamRateHeaders ? [] : ['--no-rate-headers'])],
    { core: LOAD_CORE, nofile: ctx.nofile, logFile: join(ctx.logDir, `upstream-${label}.log`) },
  );
  const url = `http://127.0.0.1:${ctx.ports.upstream}`;
  await waitUntil(record, async () => {
    const response = await request(`${url}/__fairness/stats`);
    await response.body.dump();
    return response.statusCode === 200;
  });
  return {
    record,
    stats: async () => (await request(`${url}/__fairness/stats`)).body.json(),
    /** Counters to zero (the bucket keeps its level): called just before the measured load. */
    reset: async () => (await request(`${url}/__fairness/reset`)).body.dump(),
    stop: () => stopChild(record, { signal: 'SIGTERM', graceMs: 3000 }),
  };
}

/** A fresh gateway per phase on the proxy core: fresh limits, budget and queue. */
export async function startGateway(ctx, label) {
  const configPath = join(ctx.logDir, `fairness-${label}.yaml`);
  const logFile = join(ctx.logDir, `floodgate-${label}.log`);
  return startGatewayProcess(ctx, { configPath, configText: gatewayConfig({ upstreamPort: ctx.ports.upstream, plan: ctx.plan }), logFile });
}

/**
 * The gateway's counters that explain a phase: upstream calls by outcome, upstream error codes,
 * client-limit refusals by limit, and waits for upstream budget by how they ended (present once
 * the budget queue reports them).
 */
export async function scrapeGateway(url) {
  const out = { upstreamCalls: {}, upstreamErrors: {}, rateLimited: {}, budgetWaits: {}, budgetWaitSeconds: { sum: 0, count: 0 } };
  for (const { name, labels, value } of await scrapeSamples(url)) {
    const add = (map, key) => (map[key] = (map[key] ?? 0) + value);
    if (name === 'floodgate_upstream_requests_total') add(out.upstreamCalls, labels.outcome);
    else if (name === 'floodgate_upstream_errors_total') add(out.upstreamErrors, labels.code);
    else if (name === 'floodgate_rate_limited_total') add(out.rateLimited, `${labels.limit} (${labels.tier})`);
    else if (name === 'floodgate_budget_waits_total') add(out.budgetWaits, labels.outcome);
    else if (name === 'floodgate_budget_wait_seconds_sum') out.budgetWaitSeconds.sum += value;
    else if (name === 'floodgate_budget_wait_seconds_count') out.budgetWaitSeconds.count += value;
  }
  return out;
}

/** after − before, key by key, dropping zeros. */
export function counterDelta(before, after) {
  const minus = (a = {}, b = {}) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => v !== 0));
  return {
    upstreamCalls: minus(after.upstreamCalls, before.upstreamCalls),
    upstreamErrors: minus(after.upstreamErrors, before.upstreamErrors),
    rateLimited: minus(after.rateLimited, before.rateLimited),
    budgetWaits: minus(after.budgetWaits, before.budgetWaits),
    budgetWaitSeconds: {
      sum: after.budgetWaitSeconds.sum - before.budgetWaitSeconds.sum,
      count: after.budgetWaitSeconds.count - before.budgetWaitSeconds.count,
    },
  };
}
