// Turns the results object into the tables printed at the end of a run. Added latency is
// always a difference of percentiles from the same run (proxy p99 minus direct p99), not a
// percentile of differences: the two paths never see the same request.

const ms = (x) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const plusMs = (x) => (x === undefined || x === null || Number.isNaN(x) ? '-' : `${x >= 0 ? '+' : ''}${ms(x)}`);
const int = (x) => (x === undefined || x === null ? '-' : Math.round(x).toLocaleString('en-US'));
const mb = (b) => (b ? (b / 1048576).toFixed(1) : '-');
const pct = (x) => (x === undefined || x === null ? '-' : `${Math.round(x)}%`);
// Floodgate's event loop over the window: mean utilisation and the longest single delay.
const loop = (e) => (e ? `${Math.round(e.meanUtilization * 100)}%/${Math.round(e.maxDelayMs)}` : '-');
const errorTotal = (e) => Object.values(e ?? {}).reduce((a, b) => a + b, 0);
const errorText = (e) =>
  Object.entries(e ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');

function table(title, header, rows, notes = []) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  const out = [`\n## ${title}`, line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ...notes.map((n) => `  ${n}`)];
  return out.join('\n');
}

const flag = (r) => (r.disturbed ? ` (disturbed: other processes ${Math.round(r.cpu.foreign)}% CPU)` : '');

function throughputTable(t) {
  const rows = [];
  for (const [target, runs] of Object.entries(t)) {
    for (const r of runs) {
      rows.push([target, r.connections, int(r.rps), errorTotal(r.errors), pct(r.cpu.processes.proxy), pct(r.cpu.processes.simulator), pct(r.loadgenCpuPct), pct(r.cpu.cores['0']), pct(r.cpu.cores['1']), loop(r.eventLoop), r.bottleneck + flag(r)]);
    }
  }
  return table(
    'Closed-loop throughput, non-streaming (wrk, 1 thread, keep-alive)',
    ['target', 'conns', 'req/s', 'errors', 'proxy CPU', 'sim CPU', 'wrk CPU', 'core0', 'core1', 'loop busy/max ms', 'bottleneck'],
    rows,
    [
      'CPU columns are percent of one core over the measured window.',
      "loop busy/max ms: Floodgate's event-loop utilisation and its longest event-loop delay in the window.",
    ],
  );
}

function openTables(o) {
  const rows = [];
  const byRate = new Map();
  for (const [target, runs] of Object.entries(o)) {
    for (const r of runs) {
      rows.push([
        target,
        int(r.rate),
        int(r.achievedRps),
        ms(r.latency?.p50),
        ms(r.latency?.p90),
        ms(r.latency?.p99),
        ms(r.latency?.max),
        errorTotal(r.errors) + r.unfinished,
        `${r.dropped}/${r.late}`,
        ms(r.sendLag?.p99),
        pct(r.cpu.processes.proxy),
        loop(r.eventLoop),
        mb(r.proxyPeakRss),
        r.bottleneck + flag(r),
      ]);
      if (!byRate.has(r.rate)) byRate.set(r.rate, {});
      byRate.get(r.rate)[target] = r;
    }
  }
  const added = [];
  for (const [rate, t] of byRate) {
    const d = t.direct?.latency;
    const diff = (target, q) => (d && t[target]?.latency ? t[target].latency[q] - d[q] : undefined);
    added.push([int(rate), plusMs(diff('nginx', 'p50')), plusMs(diff('nginx', 'p99')), plusMs(diff('floodgate', 'p50')), plusMs(diff('floodgate', 'p99'))]);
  }
  return (
    table(
      'Open-loop latency, non-streaming, fixed arrival rate (ms from each scheduled send time)',
      ['target', 'rate', 'done/s', 'p50', 'p90', 'p99', 'max', 'errors', 'drop/late', 'send lag p99', 'proxy CPU', 'loop busy/max ms', 'peak RSS MB', 'bottleneck'],
      rows,
      ['drop/late: sends skipped (over 20,000 in flight) / sends more than 10 ms behind schedule; both mean the generator, not the target, was short.'],
    ) + table('Added latency over direct (same run; difference of percentiles, ms)', ['rate', 'nginx +p50', 'nginx +p99', 'floodgate +p50', 'floodgate +p99'], added)
  );
}

function ttfbTable(t) {
  const d = t.direct?.ttfb;
  const rows = Object.entries(t).map(([target, r]) => [
    target,
    int(r.streamsPerSecond),
    ms(r.ttfb?.p50),
    ms(r.ttfb?.p99),
    ms(r.ttfb?.max),
    target === 'direct' || !d || !r.ttfb ? '-' : plusMs(r.ttfb.p50 - d.p50),
    target === 'direct' || !d || !r.ttfb ? '-' : plusMs(r.ttfb.p99 - d.p99),
    ms(r.total?.p50),
    errorTotal(r.errors),
  ]);
  return table('Streaming time to first content chunk (closed loop)', ['target', 'streams/s', 'p50', 'p99', 'max', 'added p50', 'added p99', 'whole stream p50', 'errors'], rows);
}

function memoryTable(m, open) {
  const rows = Object.entries(m).map(([target, mem]) => {
    const at5000 = open?.[target]?.find((r) => r.rate === 5000)?.proxyPeakRss;
    const sections = Object.entries(mem.peakRssBySection)
      .map(([s, v]) => `${s} ${mb(v)}`)
      .join(', ');
    return [target, mb(mem.idleRss), mb(at5000), mb(mem.peakRss), sections];
  });
  return table('Proxy resident memory (MB; sampled every 100 ms, nginx = master + worker)', ['proxy', 'idle', 'peak @5000/s', 'peak overall', 'peak by section'], rows);
}

function slowTable(s) {
  const rows = [];
  for (const [variant, targets] of Object.entries(s)) {
    for (const [target, r] of Object.entries(targets)) {
      rows.push([
        `${variant} ${target}`,
        `${1000 / Number(r.headers['x-sim-tps'])} ms`,
        int(r.n),
        int(r.ok),
        int(r.failed),
        int(r.peakOpen),
        ms(r.rampDoneS),
        ms(r.ttfb?.p99 / 1000),
        ms(r.duration?.p50 / 1000),
        ms(r.duration?.p99 / 1000),
        mb(r.rssIdle),
        mb(r.rssPeak),
        mb(r.rssAfter),
        r.heapAfterGcMB ?? '-',
        r.eventLoop ? Math.round(r.eventLoop.maxDelayMs) : '-',
        r.rssPerOpenStream ? (r.rssPerOpenStream / 1024).toFixed(1) : '-',
        pct(r.cpu.processes.proxy),
        pct(r.cpu.processes.simulator),
        pct(r.loadgenCpuPct),
        pct(r.cpu.cores['0']),
      ]);
    }
  }
  return table(
    'Many slow streams held open at once (50 content chunks each)',
    ['variant target', 'chunk gap', 'N', 'complete', 'failed', 'peak open', 'ramp s', 'TTFB p99 s', 'dur p50 s', 'dur p99 s', 'RSS idle', 'RSS peak', 'RSS after', 'heap after GC', 'max loop delay ms', 'KB/open stream', 'proxy CPU', 'sim CPU', 'gen CPU', 'core0'],
    rows,
    [
      'complete = status 200, all 50 content chunks, ends with data: [DONE]. KB/open stream = (RSS peak - idle) / peak open.',
      'An undisturbed stream lasts 5.1 s (paced) or 50.1 s (held); longer durations mean a CPU somewhere could not keep the pace.',
      'ramp s: time to start all N; the generator never has more than 400 streams waiting for headers, so a slow acceptor slows the ramp.',
      'CPU columns are averages over the whole run of that row, not its peak.',
      "RSS after: 2 s after the last stream; heap after GC: Floodgate's live heap after a forced full collection (memory still held).",
    ],
  );
}

function errorsList(results) {
  const lines = [];
  const add = (where, errors) => {
    if (errorTotal(errors) > 0) lines.push(`${where}: ${errorText(errors)}`);
  };
  for (const [target, runs] of Object.entries(results.throughput ?? {})) for (const r of runs) add(`throughput ${target} c=${r.connections}`, r.errors);
  for (const [target, runs] of Object.entries(results.open ?? {})) {
    for (const r of runs) add(`open ${target} ${r.rate}/s`, { ...r.errors, ...(r.unfinished ? { unfinished: r.unfinished } : {}), ...(r.dropped ? { dropped: r.dropped } : {}) });
  }
  for (const [target, r] of Object.entries(results.ttfb ?? {})) add(`ttfb ${target}`, r.errors);
  for (const [variant, targets] of Object.entries(results.slow ?? {})) for (const [target, r] of Object.entries(targets)) add(`slow ${variant} ${target}`, r.errors);
  for (const f of results.failures) lines.push(`FAILURE ${f.section} ${f.target}: ${f.message}${f.log ? `\n    ${f.log.join('\n    ')}` : ''}`);
  return lines;
}

export function render(results) {
  const parts = [`# Floodgate benchmark ${results.meta.startedAt} (${results.meta.mode})`];
  const m = results.meta;
  parts.push(`node ${m.node}, ${m.nginx ?? 'no nginx'}, ${m.cpuModel} x${m.cores}; proxy on core 1, simulator + load generator on core 0; commit ${m.commit}`);
  if (results.throughput) parts.push(throughputTable(results.throughput));
  if (results.open) parts.push(openTables(results.open));
  if (results.ttfb) parts.push(ttfbTable(results.ttfb));
  if (Object.keys(results.memory).length) parts.push(memoryTable(results.memory, results.open));
  if (results.slow) parts.push(slowTable(results.slow));
  for (const p of results.profiles ?? []) {
    parts.push(table(`CPU profile ${p.file}: top self time, % of ${(p.busyMs / 1000).toFixed(1)} s busy (of ${(p.totalMs / 1000).toFixed(1)} s sampled)`, ['function', 'self %', 'self ms', 'where'], p.top.slice(0, 20).map((f) => [f.name, f.pct.toFixed(1), int(f.ms), f.where])));
    parts.push(table('  ... grouped by package / file', ['group', 'self %'], p.byGroup.slice(0, 12).map((g) => [g.group, g.pct.toFixed(1)])));
  }
  const errors = errorsList(results);
  parts.push(errors.length ? `\n## ERRORS (counted, not hidden)\n${errors.map((l) => `- ${l}`).join('\n')}` : '\n## Errors: none; every response was checked.');
  for (const note of results.notes) parts.push(`note: ${note}`);
  return { text: parts.join('\n'), errorCount: errors.length };
}
