// The chaos benchmark's world: the fault modes, the gateway configuration for each phase, the
// gateway process itself, and the gateway's own count of upstream calls (its /metrics).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { scrapeSamples, startGatewayProcess } from './gateway-process.mjs';

export const MODEL = 'chaos-chat';

/** Short provider timeouts, so that slow faults fail over in about a second. */
export const TIMEOUTS = { connect_ms: 500, first_byte_ms: 1000, idle_ms: 1000 };

/**
 * Pacing every deployment asks the simulator for: a 20-token answer, first token after 20 ms,
 * then 200 tokens/s (~140 ms a stream), so several requests are always in flight at 50 req/s.
 */
const PACING = { 'x-sim-ttft-ms': '20', 'x-sim-tps': '200', 'x-sim-tokens': '20' };

/**
 * One phase per fault kind, struck on `flaky` with probability p. Kinds that take an event count
 * strike after the role chunk and two content chunks (cut:3, hang:3), so a stream has already
 * relayed content and must end with an error event; malformed and error-event keep their default
 * (after the role chunk), which is before any content, so the gateway can still fail over.
 * `refusal` is a content-policy answer, not an upstream failure, so it has no phase.
 */
export const FAULT_MODES = {
  500: '500',
  502: '502',
  503: '503:1', // carries Retry-After: 1
  429: '429:1', // Retry-After: 1
  reset: 'reset',
  'slow-first-byte': `slow-first-byte:${TIMEOUTS.first_byte_ms * 1.5}`,
  'slow-loris': `slow-loris:${TIMEOUTS.idle_ms * 1.5}`,
  cut: 'cut:3',
  malformed: 'malformed',
  'error-event': 'error-event',
  hang: 'hang:3',
};

/** The gateway's config: `chaos-chat` over `flaky` and `healthy`, weighted, routing defaults. */
export function gatewayConfig({ simPort, flakyFault, healthyFault }) {
  const deployment = (fault) => ({
    provider: 'sim',
    model: 'sim-chat',
    weight: 1,
    headers: { ...PACING, ...(fault ? { 'x-sim-fault': fault } : {}) },
  });
  return stringify({
    server: { access_log: false, log_level: 'warn', shutdown_grace_ms: 2000 },
    // One load generator on one address: the free-tier limits are lifted, shedding stays out.
    limits: { tiers: { anonymous: {} } },
    overload: { enabled: false },
    providers: { sim: { base_url: `http://127.0.0.1:${simPort}/v1`, max_connections: 512, timeouts: TIMEOUTS } },
    deployments: { flaky: deployment(flakyFault), healthy: deployment(healthyFault) },
    models: { [MODEL]: { deployments: ['flaky', 'healthy'], strategy: 'weighted', context_length: 16384 } },
  });
}

/**
 * Starts a fresh gateway (fresh breakers, budget and cooldowns) on the proxy core. Readiness is
 * asked of /readyz, not of a chat request, which would already count as an upstream call and,
 * in the all-down phase, fail.
 */
export async function startGateway(ctx, phaseName, configText) {
  const label = phaseName.replace(/[^A-Za-z0-9-]+/g, '-');
  const configPath = join(ctx.logDir, `chaos-${label}.yaml`);
  const logFile = join(ctx.logDir, `floodgate-${label}.log`);
  return startGatewayProcess(ctx, { configPath, configText, logFile });
}

/**
 * The counters that tell what the gateway did upstream, summed by the labels that matter here:
 * calls (floodgate_upstream_requests_total, every deployment and outcome), its own histogram of
 * attempts per routed request, upstream error codes and breaker openings.
 */
export async function scrapeGateway(url) {
  const out = { calls: 0, callsByOutcome: {}, attemptsSum: 0, attemptsCount: 0, errorCodes: {}, breakerOpens: 0 };
  for (const { name, labels, value } of await scrapeSamples(url)) {
    if (name === 'floodgate_upstream_requests_total') {
      out.calls += value;
      out.callsByOutcome[labels.outcome] = (out.callsByOutcome[labels.outcome] ?? 0) + value;
    } else if (name === 'floodgate_upstream_attempts_per_request_sum') out.attemptsSum += value;
    else if (name === 'floodgate_upstream_attempts_per_request_count') out.attemptsCount += value;
    else if (name === 'floodgate_upstream_errors_total') out.errorCodes[`${labels.deployment} ${labels.code}`] = value;
    else if (name === 'floodgate_breaker_transitions_total' && labels.state === 'open') out.breakerOpens += value;
  }
  return out;
}

/** after − before for every counter of scrapeGateway. */
export function counterDelta(before, after) {
  const minus = (a = {}, b = {}) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => v !== 0));
  return {
    calls: after.calls - before.calls,
    callsByOutcome: minus(after.callsByOutcome, before.callsByOutcome),
    attemptsSum: after.attemptsSum - before.attemptsSum,
    attemptsCount: after.attemptsCount - before.attemptsCount,
    errorCodes: minus(after.errorCodes, before.errorCodes),
    breakerOpens: after.breakerOpens - before.breakerOpens,
  };
}

/**
 * What the gateway's log says about a phase, in seconds after `startEpochMs`: the breakers' state
 * changes (`flaky open 0.42 s`: was the flaky deployment in play, and for how long) and why
 * routing gave up on requests early (`the retry budget is spent`), which explains failed rows.
 */
export function readGatewayLog(logFile, startEpochMs) {
  const out = { breakers: [], stopReasons: {} };
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.breaker) out.breakers.push(`${entry.deployment} ${entry.breaker} ${((entry.time - startEpochMs) / 1000).toFixed(2)} s`);
    const stopped = /Stopped because ([^.]+)\./.exec(entry.msg ?? '');
    if (stopped) out.stopReasons[stopped[1]] = (out.stopReasons[stopped[1]] ?? 0) + 1;
  }
  return out;
}
