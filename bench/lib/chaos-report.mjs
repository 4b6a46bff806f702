// The chaos benchmark's figures: per-phase summaries, the targets and their verdicts, and the
// Markdown that goes to stdout and bench/CHAOS-RESULTS.md.
import { Samples, summarize } from './stats.mjs';

const total = (counts) => Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
const ratio = (part, whole) => (whole > 0 ? part / whole : null);

/** The figures of one phase (or of several phases' tallies merged, for the overall row). */
export function summarizePhase(tally, upstreamCalls, steady) {
  const c = tally.completions;
  const s = tally.streams;
  const failedBefore = total(s.failedBeforeFirstByte);
  const errorEvents = total(s.errorEvent);
  const dishonest = total(s.dishonest);
  return {
    sent: tally.sent,
    completions: { ok: c.ok, of: c.sent },
    // Streams that did not fail after their first byte: complete, or an ordinary error before it.
    streams: { ok: s.ok, of: s.ok + failedBefore },
    afterFirstByte: { errorEvents, of: errorEvents + dishonest },
    dishonest,
    meanAttempts: ratio(tally.attemptsHeader.sum, tally.attemptsHeader.count),
    callsPerRequest: ratio(upstreamCalls, tally.sent),
    /** All-down phases: calls per request once the retry budget's first window has passed. */
    steadyCallsPerRequest: steady ? ratio(steady.calls, steady.sent) : null,
    steady: steady ?? null,
    latency: summarize(tally.latency.values()),
    answeredLatency: summarize(tally.answered.values()),
    harnessErrors: total(tally.harnessErrors),
  };
}

/** Adds up the tallies of several phases. */
export function mergeTallies(tallies) {
  const sumInto = (into, from) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
    return into;
  };
  const latency = new Samples(4096);
  const answered = new Samples(4096);
  const merged = {
    sent: 0,
    completions: { sent: 0, ok: 0, failed: {} },
    streams: { sent: 0, ok: 0, failedBeforeFirstByte: {}, errorEvent: {}, dishonest: {} },
    attemptsHeader: { sum: 0, count: 0 },
    latency,
    answered,
    harnessErrors: {},
  };
  for (const t of tallies) {
    merged.sent += t.sent;
    merged.completions.sent += t.completions.sent;
    merged.completions.ok += t.completions.ok;
    sumInto(merged.completions.failed, t.completions.failed);
    merged.streams.sent += t.streams.sent;
    merged.streams.ok += t.streams.ok;
    for (const k of ['failedBeforeFirstByte', 'errorEvent', 'dishonest']) sumInto(merged.streams[k], t.streams[k]);
    merged.attemptsHeader.sum += t.attemptsHeader.sum;
    merged.attemptsHeader.count += t.attemptsHeader.count;
    for (const v of t.latency.values()) latency.push(v);
    for (const v of t.answered.values()) answered.push(v);
    sumInto(merged.harnessErrors, t.harnessErrors);
  }
  return merged;
}

/** Each target applies to fault phases, all-down phases or both; check returns null when n/a. */
export const TARGETS = [
  { id: 'completions', text: 'non-streaming success ≥ 99.9 % (all fault modes together)', on: 'overall', check: (s) => ok(s.completions, 0.999) },
  { id: 'streams', text: 'streams not failing after the first byte: success ≥ 99.9 % (all fault modes together)', on: 'overall', check: (s) => ok(s.streams, 0.999) },
  { id: 'honest', text: 'streams failing after the first byte end with an error event: 100 %', on: 'both', check: (s) => (s.afterFirstByte.of === 0 ? null : s.afterFirstByte.errorEvents === s.afterFirstByte.of) },
  { id: 'dishonest', text: 'dishonest streams: 0', on: 'both', check: (s) => s.dishonest === 0 },
  // Calls are whole: 20 % of 999 requests is 199.8 retries, and the 200th is within the budget.
  { id: 'attempts', text: 'all down: upstream attempts per request ≤ 1.2 (steady state; 20 % extra, rounded up to a whole call)', on: 'all-down', check: (s) => (s.steady === null || s.steady.sent === 0 || s.steady.missing > 0 ? false : s.steady.calls <= Math.ceil(1.2 * s.steady.sent)) },
];

function ok({ ok: good, of }, floor) {
  return of === 0 ? null : good / of >= floor;
}

/** { targetId: true | false | null } for one phase; a bench bug fails the phase outright. */
export function verdicts(phase) {
  const out = {};
  for (const t of TARGETS) out[t.id] = t.on === 'both' || t.on === phase.kind ? t.check(phase.summary) : null;
  return out;
}

const pct = (part, whole, digits = 2) => (whole > 0 ? `${((100 * part) / whole).toFixed(digits)} %` : '-');
const share = ({ ok: good, of }) => (of > 0 ? `${pct(good, of)} (${good}/${of})` : '-');
const num = (x, digits = 2) => (x === null || x === undefined ? '-' : x.toFixed(digits));
const ms = (x) => (x === undefined ? '-' : x < 100 ? x.toFixed(1) : Math.round(x).toString());

function verdictCell(v) {
  const failed = Object.entries(v).filter(([, r]) => r === false).map(([id]) => id);
  return failed.length ? `**FAIL** (${failed.join(', ')})` : 'PASS';
}

/** The results table, one row per phase and one overall row for the fault phases. */
export function resultsTable(phases, overall) {
  const header = ['phase', 'fault on flaky', 'sent', 'non-stream success', 'stream success (not failed after 1st byte)', 'failed after 1st byte: ended with error event', 'dishonest streams', 'mean x-floodgate-attempts', 'upstream calls / request', 'p50 ms', 'p99 ms', 'verdict'];
  const row = (name, fault, s, v) => [
    name,
    fault,
    s.sent,
    share(s.completions),
    share(s.streams),
    s.afterFirstByte.of > 0 ? `${pct(s.afterFirstByte.errorEvents, s.afterFirstByte.of, 1)} (${s.afterFirstByte.errorEvents}/${s.afterFirstByte.of})` : '- (0)',
    s.dishonest,
    num(s.meanAttempts, 3),
    s.steadyCallsPerRequest === null ? num(s.callsPerRequest, 3) : `${num(s.callsPerRequest, 3)} (steady ${num(s.steadyCallsPerRequest, 3)})`,
    // No answer succeeds when all is down: then the time to the error is what a client waits.
    s.latency ? ms(s.latency.p50) : `${ms(s.answeredLatency?.p50)} (errors)`,
    s.latency ? ms(s.latency.p99) : `${ms(s.answeredLatency?.p99)} (errors)`,
    verdictCell(v),
  ];
  const rows = phases.map((p) => row(p.name, `\`${p.fault}\``, p.summary, p.verdicts));
  if (overall) rows.push(row('**all fault modes**', '', overall.summary, overall.verdicts));
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** One line per target: PASS/FAIL, where it failed, and the figure it was judged on. */
export function targetLines(phases, overall) {
  const lines = [];
  const everything = overall ? [...phases, overall] : phases;
  for (const t of TARGETS) {
    const judged = everything.filter((p) => p.verdicts[t.id] !== null);
    if (judged.length === 0) continue;
    const failed = judged.filter((p) => p.verdicts[t.id] === false).map((p) => p.name);
    const figure = t.id === 'attempts'
      ? judged.map((p) => `${p.name}: ${num(p.summary.steadyCallsPerRequest, 4)} steady (${p.summary.steady?.calls} calls for ${p.summary.steady?.sent} requests${p.summary.steady?.missing ? `, ${p.summary.steady.missing} answers without the header` : ''}), ${num(p.summary.callsPerRequest, 3)} from a cold start`).join('; ')
      : overallFigure(t.id, overall?.summary);
    lines.push(`- **${failed.length ? 'FAIL' : 'PASS'}** ${t.text}${figure ? ` — ${figure}` : ''}${failed.length ? ` — failed in: ${failed.join(', ')}` : ''}`);
  }
  return lines;
}

function overallFigure(id, s) {
  if (!s) return '';
  if (id === 'completions') return `all fault modes: ${share(s.completions)}`;
  if (id === 'streams') return `all fault modes: ${share(s.streams)}`;
  if (id === 'honest') return `all fault modes: ${s.afterFirstByte.errorEvents}/${s.afterFirstByte.of}`;
  if (id === 'dishonest') return `all fault modes: ${s.dishonest}`;
  return '';
}

const counts = (map) => Object.entries(map ?? {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`).join('; ') || 'none';

/** What lies behind each row: failure reasons, the gateway's own counters, and the machine. */
export function detailLines(phase) {
  const t = phase.tally;
  const u = phase.upstream;
  const lag = summarize(t.sendLag.values());
  const lines = [
    `- **${phase.name}** (\`${phase.fault}\` on flaky${phase.healthyFault ? `, \`${phase.healthyFault}\` on healthy` : ''}, ${phase.seconds} s at ${phase.rate} req/s)`,
    `  - non-stream failures: ${counts(t.completions.failed)}`,
    `  - streams failed before the first byte: ${counts(t.streams.failedBeforeFirstByte)}; error events: ${counts(t.streams.errorEvent)}; dishonest: ${counts(t.streams.dishonest)}`,
    `  - gateway: ${u.calls} upstream calls (${counts(u.callsByOutcome)}); x-floodgate-attempts summed over ${t.attemptsHeader.count} answers: ${t.attemptsHeader.sum}; upstream errors: ${counts(u.errorCodes)}; breaker openings: ${u.breakerOpens}`,
    `  - load generator: send lag p99 ${num(lag?.p99)} ms, max ${num(lag?.max)} ms, ${t.late} sends > 10 ms late, ${t.maxInFlight} in flight at most, ${num(phase.loadgenCpuPct, 1)} % CPU; gateway ${num(phase.cpu.processes.gateway, 1)} % CPU, simulator ${num(phase.cpu.processes.simulator, 1)} %; other processes ${num(phase.cpu.foreign, 1)} %${phase.cpu.busiestForeign ? ` (busiest: ${phase.cpu.busiestForeign})` : ''}`,
  ];
  const { breakers, stopReasons } = phase.gatewayLog;
  if (breakers.length > 0) lines.push(`  - breakers (s after the first send): ${breakers.slice(0, 20).join(', ')}${breakers.length > 20 ? ', …' : ''}`);
  if (total(stopReasons) > 0) lines.push(`  - the gateway stopped trying early because: ${counts(stopReasons)}`);
  if (phase.kind === 'fault' && t.failureTimes.length > 0) {
    const times = [...t.failureTimes].sort((x, y) => x - y).map((x) => x.toFixed(2));
    lines.push(`  - counted failures were sent at (s after the first send): ${times.slice(0, 20).join(', ')}${times.length > 20 ? ', …' : ''}`);
  }
  if (phase.problem) lines.push(`  - **problem:** ${phase.problem}`);
  if (total(t.harnessErrors)) lines.push(`  - **bench errors:** ${counts(t.harnessErrors)}`);
  lines.push('');
  return lines;
}
