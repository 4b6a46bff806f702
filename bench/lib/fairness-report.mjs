// The fairness benchmark's figures: what each class of client got in a phase, Jain's index, the
// targets and their verdicts, and the Markdown that goes to stdout and bench/FAIRNESS-RESULTS.md.
import { summarize } from './stats.mjs';

/**
 * Where a refusal came from, by its error code (src/limits/headers.ts, src/budget/refusals.ts,
 * src/providers/upstream-errors.ts). `upstream_rate_limited` is both an upstream 429 passed on
 * (the gateway called the upstream: x-floodgate-attempts ≥ 1) and the queue's refusal to wait out
 * an upstream's Retry-After (no call made: attempts 0), so the attempts header tells them apart.
 */
export function refusalClass(record) {
  if (record.ok) return 'served';
  switch (record.code) {
    case 'rate_limit_exceeded':
      return 'client limit';
    case 'upstream_budget_exhausted':
    case 'too_many_waiting_requests':
    case 'queue_full':
      return 'queue';
    case 'upstream_rate_limited':
      return record.attempts !== null && record.attempts >= 1 ? 'upstream 429 passed on' : 'queue';
    default:
      return 'other';
  }
}

const label = (r) => `${r.status || 'no answer'} ${r.code ?? ''}`.trim() + (r.code === 'upstream_rate_limited' ? ` (attempts ${r.attempts ?? '?'})` : '');

const countBy = (records, key) => {
  const out = {};
  for (const r of records) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return out;
};

/** Jain's fairness index (Σx)² / (n·Σx²): 1 when every x is equal, 1/n when one takes all. */
export function jain(xs) {
  if (xs.length === 0) return null;
  let sum = 0;
  let squares = 0;
  for (const x of xs) {
    sum += x;
    squares += x * x;
  }
  return squares === 0 ? null : (sum * sum) / (xs.length * squares);
}

/** The figures of one phase, from its request records. */
export function summarizePhase({ records, quota }) {
  const light = records.filter((r) => r.kind === 'light');
  const heavy = records.filter((r) => r.kind === 'heavy');
  const lightOk = light.filter((r) => r.ok);
  const perLight = new Map();
  for (const r of light) {
    const c = perLight.get(r.client) ?? { sent: 0, served: 0 };
    c.sent++;
    if (r.ok) c.served++;
    perLight.set(r.client, c);
  }
  const heavyServed = heavy.filter((r) => r.ok).length;
  const heavyClientLimited = heavy.filter((r) => refusalClass(r) === 'client limit').length;
  const lightShares = [...perLight.values()].map((c) => c.served / c.sent);
  // Entitlement: what a client asked for, up to its quota (light clients never reach theirs).
  const entitled = [...perLight.values()].map((c) => c.served / Math.min(c.sent, quota));
  const heavyShare = heavy.length > 0 ? heavyServed / Math.min(heavy.length, quota) : null;
  if (heavyShare !== null) entitled.push(heavyShare);
  return {
    sent: records.length,
    light: {
      clients: perLight.size,
      sent: light.length,
      served: lightOk.length,
      successRate: light.length ? lightOk.length / light.length : null,
      failures: countBy(light.filter((r) => !r.ok), label),
      latency: summarize(lightOk.map((r) => r.latencyMs)),
      worstClient: lightShares.length ? Math.min(...lightShares) : null,
    },
    heavy: heavy.length === 0 ? null : {
      sent: heavy.length,
      // Admitted at the door: everything the client limits did not refuse.
      admitted: heavy.length - heavyClientLimited,
      // Charged to its quota: admitted, less what the gateway turned away for want of upstream
      // capacity (those get their place in the quota back).
      charged: heavy.length - heavyClientLimited - heavy.filter((r) => ['queue', 'upstream 429 passed on'].includes(refusalClass(r))).length,
      served: heavyServed,
      quota,
      outcomes: countBy(heavy, label),
      latency: summarize(heavy.filter((r) => r.ok).map((r) => r.latencyMs)),
    },
    jainLight: jain(lightShares),
    jainEntitled: jain(entitled),
    // One value per class, so the heavy client is not outweighed a hundred to one.
    jainClasses: heavyShare === null ? null : jain([light.length ? lightOk.length / light.length : 0, heavyShare]),
    byClass: countBy(records, refusalClass),
    queueRefusals: countBy(records.filter((r) => refusalClass(r) === 'queue'), (r) => `${r.kind} ${label(r)}`),
    upstream429PassedOn: records.filter((r) => refusalClass(r) === 'upstream 429 passed on').length,
  };
}

/** Requests and outcomes in 10-second windows of scheduled send time, for the timeline table. */
export function timeline(records, seconds, perSecond, windowS = 10) {
  const rows = [];
  for (let from = 0; from < seconds; from += windowS) {
    const inWindow = records.filter((r) => r.atMs >= from * 1000 && r.atMs < (from + windowS) * 1000);
    const light = inWindow.filter((r) => r.kind === 'light');
    const heavy = inWindow.filter((r) => r.kind === 'heavy');
    const forwarded = (perSecond ?? []).slice(from, from + windowS).reduce((a, b) => a + b, 0);
    rows.push({
      from,
      to: Math.min(seconds, from + windowS),
      light: { sent: light.length, served: light.filter((r) => r.ok).length, latency: summarize(light.filter((r) => r.ok).map((r) => r.latencyMs)) },
      heavy: { sent: heavy.length, admitted: heavy.filter((r) => refusalClass(r) !== 'client limit').length, served: heavy.filter((r) => r.ok).length, latency: summarize(heavy.filter((r) => r.ok).map((r) => r.latencyMs)) },
      upstreamPerS: forwarded / windowS,
    });
  }
  return rows;
}

/** The issue's targets, judged on the two phases. Each: { text, pass, value }. */
export function targets(baseline, contended, plan) {
  const b = baseline.summary;
  const c = contended.summary;
  const ratio = b.light.latency && c.light.latency ? c.light.latency.p99 / b.light.latency.p99 : null;
  const passedOn = b.upstream429PassedOn + c.upstream429PassedOn;
  const h = c.heavy;
  return [
    {
      id: 'light-success',
      text: `light clients' success rate with the heavy client ≥ ${pct(plan.lightSuccessFloor)}`,
      pass: c.light.successRate !== null && c.light.successRate >= plan.lightSuccessFloor,
      value: `${pct(c.light.successRate)} (${c.light.served}/${c.light.sent}; baseline ${pct(b.light.successRate)}, ${b.light.served}/${b.light.sent})`,
    },
    {
      id: 'light-p99',
      text: `light clients' p99 latency with the heavy client ≤ ${plan.p99Ratio}× the baseline's`,
      pass: ratio !== null && ratio <= plan.p99Ratio,
      value: ratio === null ? 'no latency' : `${ms(c.light.latency.p99)} vs ${ms(b.light.latency.p99)}: ${ratio.toFixed(3)}×`,
    },
    {
      id: 'heavy-quota',
      text: 'the heavy client gets exactly its quota (served = charged = quota)',
      pass: h !== null && h.served === h.quota && h.charged === h.quota,
      value: h === null ? 'no heavy client' : `served ${h.served}, charged ${h.charged} (admitted ${h.admitted}), quota ${h.quota} (of ${h.sent} sent)`,
    },
    {
      id: 'no-upstream-429',
      text: 'upstream 429s passed on to callers: 0 (both phases)',
      pass: passedOn === 0,
      value: `${passedOn} (baseline ${b.upstream429PassedOn}, contended ${c.upstream429PassedOn}); the upstream answered 429 to the gateway ${baseline.upstream.rejected429 + contended.upstream.rejected429} times`,
    },
  ];
}

export const pct = (x) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(2)} %`);
export const ms = (x) => (x === null || x === undefined ? '-' : x >= 100 ? `${Math.round(x)} ms` : `${x.toFixed(1)} ms`);
const num = (x, digits = 4) => (x === null || x === undefined ? '-' : x.toFixed(digits));
const list = (counts) => {
  const entries = Object.entries(counts ?? {}).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([k, v]) => `${k}: ${v}`).join(', ') : 'none';
};

function phaseTable(phases) {
  const rows = [
    '| phase | light sent | light success | light p50 | light p99 | worst light client | heavy sent | heavy admitted (charged) / quota | heavy served | Jain (light) | Jain (entitled) | Jain (classes) | upstream calls | upstream 429s to gateway | upstream 429s passed on |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const p of phases) {
    const s = p.summary;
    const h = s.heavy;
    rows.push(
      `| ${p.name} | ${s.light.sent} | ${pct(s.light.successRate)} | ${ms(s.light.latency?.p50)} | ${ms(s.light.latency?.p99)} | ${pct(s.light.worstClient)} | ${h ? h.sent : '-'} | ${h ? `${h.admitted} (${h.charged}) / ${h.quota}` : '-'} | ${h ? h.served : '-'} | ${num(s.jainLight)} | ${num(s.jainEntitled)} | ${num(s.jainClasses)} | ${p.upstream.forwarded} | ${p.upstream.rejected429} | ${s.upstream429PassedOn} |`,
    );
  }
  return rows.join('\n');
}

function timelineTable(p) {
  const rows = [
    '| sent in (s) | light sent | light served | light p50 | light p99 | heavy sent | heavy admitted | heavy served | heavy p99 | upstream calls/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const w of p.timeline) {
    rows.push(
      `| ${w.from}–${w.to} | ${w.light.sent} | ${w.light.served} | ${ms(w.light.latency?.p50)} | ${ms(w.light.latency?.p99)} | ${w.heavy.sent} | ${w.heavy.admitted} | ${w.heavy.served} | ${ms(w.heavy.latency?.p99)} | ${w.upstreamPerS.toFixed(1)} |`,
    );
  }
  return rows.join('\n');
}

function detailLines(p, plan) {
  const s = p.summary;
  const u = p.upstream;
  const maxPerS = u.perSecond.length ? Math.max(...u.perSecond) : 0;
  const lines = [
    `### ${p.name}`,
    '',
    `- Requests: ${s.sent} sent (${list(s.byClass)}).`,
    `- Light clients: ${s.light.clients} clients, failures: ${list(s.light.failures)}.`,
    `- Queue refusals (src/budget/refusals.ts): ${list(s.queueRefusals)}.`,
  ];
  if (s.heavy) {
    lines.push(`- Heavy client: ${list(s.heavy.outcomes)}; served p50 ${ms(s.heavy.latency?.p50)}, p99 ${ms(s.heavy.latency?.p99)}, max ${ms(s.heavy.latency?.max)}.`);
  }
  lines.push(
    `- Upstream (the rate-limiting proxy): ${u.forwarded} calls forwarded (${list(u.byStatus)}), ${u.rejected429} answered 429${u.rejectedAt.length ? ` (first at ${(u.rejectedAt[0] / 1000).toFixed(1)} s, last at ${(u.rejectedAt.at(-1) / 1000).toFixed(1)} s)` : ''}, busiest second ${maxPerS} calls (budget ${(plan.upstreamRpm / 60).toFixed(1)}/s, burst ${Math.round((plan.upstreamRpm / 60) * (plan.upstreamBurstMs / 1000))}), at most ${u.maxInFlight} open at once.`,
    `- Gateway counters: upstream calls ${list(p.gateway.upstreamCalls)}; upstream errors ${list(p.gateway.upstreamErrors)}; client-limit refusals ${list(p.gateway.rateLimited)}; budget waits ${list(p.gateway.budgetWaits)}${p.gateway.budgetWaitSeconds.count ? ` (granted after ${((p.gateway.budgetWaitSeconds.sum / p.gateway.budgetWaitSeconds.count) * 1000).toFixed(0)} ms on average)` : ''}.`,
    `- Load generator: send lag p99 ${ms(p.sendLag?.p99)}, ${p.late} sends later than 10 ms, at most ${p.maxInFlight} requests open; harness errors: ${Object.keys(p.harnessErrors).length ? list(p.harnessErrors) : 'none'}.`,
    `- CPU (% of one core): ${Object.entries(p.cpu.processes).map(([k, v]) => `${k} ${v}`).join(', ')}; cores ${Object.entries(p.cpu.cores).map(([k, v]) => `${k}: ${v}`).join(', ')}; other processes ${p.cpu.foreign}${p.cpu.busiestForeign ? ` (busiest: ${p.cpu.busiestForeign})` : ''}.`,
  );
  if (p.problem) lines.push(`- **Problem:** ${p.problem}`);
  lines.push('', timelineTable(p), '');
  return lines;
}

export function markdown({ plan, phases, verdicts, facts, command, notes }) {
  const [baseline, contended] = phases;
  const failed = verdicts.filter((v) => !v.pass);
  return [
    '# Fairness benchmark results',
    '',
    `Run ${facts.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC – ${facts.finishedAt.toISOString().slice(11, 16)} UTC, commit \`${facts.commit}\`, Node ${facts.node}.`,
    `Machine: ${facts.nproc} cores (${facts.cpuModel}), a shared, noisy development machine; the gateway runs alone on core 1; the`,
    'simulator, the rate-limiting upstream proxy and the load generator share core 0; all in one session at raised CPU weight where allowed.',
    ...notes.map((n) => `Note: ${n}`),
    '',
    `Command: \`${command}\` (\`npm run bench:fairness\` builds first, then runs \`node bench/fairness.mjs\`).`,
    '',
    '## What is replayed',
    '',
    `The day in the issue: one anonymous client sent 462,000 requests in 24 h while everyone else sent about 10,000. Compressed to ${plan.seconds} s per phase:`,
    `${plan.lightClients} light clients, each an independent Poisson process at ${plan.lightRate} req/s (${(plan.lightClients * plan.lightRate).toFixed(0)} req/s together), and one heavy client at ${plan.heavyRate} req/s (${(plan.heavyRate / plan.lightRate).toFixed(0)}× one light client), evenly spaced ± half a gap.`,
    `Every client is keyless and known by its own address (X-Forwarded-For from the trusted load generator), so all are in the \`anonymous\` tier, whose one limit is the day's quota compressed into the run: \`daily_requests: ${plan.quota}\`.`,
    `Light clients send about ${Math.round(plan.seconds * plan.lightRate)} requests each and never reach it; the heavy client reaches it after ~${(plan.quota / plan.heavyRate).toFixed(0)} s, so its quota is an exact count: ${plan.quota} requests.`,
    `Upstream: one deployment over the simulator (\`sim-chat\`, its realistic pacing: first token 200 ms, 50 tokens/s, a 20-token answer, ~600 ms a call), behind a proxy (bench/lib/fairness-upstream.mjs) that enforces a fixed budget of ${plan.upstreamRpm} requests/min (${(plan.upstreamRpm / 60).toFixed(1)}/s, continuous refill, at most ${plan.upstreamBurstMs} ms worth at once, as OpenAI enforces a per-minute limit over short slices) and answers real 429s (OpenAI's body, Retry-After) past it${plan.upstreamRateHeaders ? '; every answer carries its x-ratelimit-* headers, as OpenAI\'s do' : '; its answers carry **no x-ratelimit-* headers** (as Gemini\'s), so only its 429s tell the gateway anything'}.`,
    `The gateway's deployment has \`limits: { rpm: ${plan.gatewayRpm} }\`, ${plan.gatewayRpm === plan.upstreamRpm ? 'the same budget' : `**more than the upstream allows**, so the upstream's 429s (and their Retry-After) are all that hold the gateway to the real budget`}. Light traffic plus the heavy client's quota fit it (${Math.round(plan.lightClients * plan.lightRate * plan.seconds)} + ${plan.quota} requests in ${plan.seconds} s = ${((plan.lightClients * plan.lightRate * plan.seconds + plan.quota) / plan.seconds).toFixed(0)}/s on average); the heavy client's full demand does not (${(plan.lightClients * plan.lightRate + plan.heavyRate).toFixed(0)}/s). While the heavy client spends its quota (${plan.heavyRate} req/s at the door), the upstream is oversubscribed and requests wait in the fair queue.`,
    `Queue: \`${JSON.stringify(plan.queue)}\` (max_per_client raised from the default 20 so that the heavy client's admitted requests can wait their turn instead of being refused: the deadline, not the cap, bounds waiting). Overload shedding off. Storage in memory.`,
    `Phases: **baseline** (light clients only) and **contended** (the same light schedule, seed ${plan.seed}, plus the heavy client); each starts a fresh gateway and a fresh upstream bucket, after ${plan.warmup} warm-up requests from an unmeasured address.`,
    'Latency runs from the scheduled send time to the end of the answer, successful answers only.',
    '',
    'Definitions:',
    '- *success*: a 200 with a chat.completion carrying content.',
    '- *admitted* (heavy): not refused by the client limits (`429 rate_limit_exceeded`); *charged*: admitted, less the requests the gateway turned away for want of upstream capacity (queue refusals, upstream 429s passed on), whose place in the quota is given back; *served*: success. "Exactly its quota" means served = charged = quota: none lost to upstream trouble, none over.',
    "- *Jain (light)*: Jain's index (Σx)²/(n·Σx²) over the light clients' success fractions x = served/sent (1 = every light client equally served).",
    "- *Jain (entitled)*: the same over all clients with x = served / entitlement, entitlement = min(sent, quota) (light: what it sent; heavy: its quota). 1 = every client got exactly what it was entitled to, the heavy client included. With 100 light clients and one heavy one it barely moves when only the heavy client is short-changed, hence:",
    "- *Jain (classes)*: the same over two values, the light clients' served/sent together and the heavy client's served/entitlement.",
    "- *upstream 429 passed on*: a 429 `upstream_rate_limited` that carries `x-floodgate-attempts` ≥ 1 (the gateway called the upstream and relayed its 429). The gateway's own refusals are told apart by code: `rate_limit_exceeded` (client limits), `upstream_budget_exhausted`, `too_many_waiting_requests`, `queue_full`, and `upstream_rate_limited` with attempts 0 (the queue declined to wait out an upstream Retry-After past the deadline) (src/budget/refusals.ts).",
    '',
    '## Results',
    '',
    phaseTable(phases),
    '',
    '## Targets',
    '',
    ...verdicts.map((v) => `- **${v.pass ? 'PASS' : 'FAIL'}** ${v.text}: ${v.value}`),
    `- (reported, no target) Jain's index, contended: light ${num(contended.summary.jainLight)}, entitled ${num(contended.summary.jainEntitled)}, classes ${num(contended.summary.jainClasses)}; baseline: light ${num(baseline.summary.jainLight)}.`,
    '',
    failed.length ? `Verdict: **FAIL** (${failed.map((v) => v.id).join(', ')}).` : 'Verdict: **PASS**.',
    '',
    '## Details',
    '',
    ...phases.flatMap((p) => detailLines(p, plan)),
  ].join('\n');
}

/** The short summary for the terminal. */
export function summaryLines(phases, verdicts) {
  const [b, c] = phases.map((p) => p.summary);
  return [
    '',
    `light success: baseline ${pct(b.light.successRate)}, contended ${pct(c.light.successRate)}`,
    `light p50/p99: baseline ${ms(b.light.latency?.p50)} / ${ms(b.light.latency?.p99)}, contended ${ms(c.light.latency?.p50)} / ${ms(c.light.latency?.p99)}`,
    `heavy: sent ${c.heavy?.sent}, admitted ${c.heavy?.admitted}, served ${c.heavy?.served}, quota ${c.heavy?.quota}; outcomes ${list(c.heavy?.outcomes)}`,
    `Jain: light ${num(c.jainLight)}, entitled ${num(c.jainEntitled)}, classes ${num(c.jainClasses)}`,
    `upstream 429s (baseline + contended): to the gateway ${phases[0].upstream.rejected429} + ${phases[1].upstream.rejected429}, passed on to callers ${b.upstream429PassedOn} + ${c.upstream429PassedOn}`,
    `queue refusals: baseline ${list(b.queueRefusals)}; contended ${list(c.queueRefusals)}`,
    ...verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'}  ${v.text}: ${v.value}`),
  ];
}
