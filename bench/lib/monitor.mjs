// Watches the processes of one measurement: the proxy's memory every 100 ms (its peak is what a
// user must provision for) and the CPU each process and each core used, which tells which side
// was the bottleneck.
import { readdirSync, readFileSync } from 'node:fs';
import { coreTimes, cpuSecondsOf, memoryOf, processTree } from './procs.mjs';

export class MemorySampler {
  constructor(pid, intervalMs = 100) {
    this.pid = pid;
    this.peakRss = 0;
    this.samples = [];
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample() {
    const { rss } = memoryOf(this.pid);
    if (rss === 0) return;
    const at = performance.now();
    this.samples.push([at, rss]);
    if (rss > this.peakRss) this.peakRss = rss;
    // Long runs: keep memory of the sampler bounded (an hour at 10 Hz is 36,000 pairs anyway).
    if (this.samples.length > 50_000) this.samples.splice(0, 10_000);
  }

  /** Peak resident memory between two performance.now() instants. */
  peakBetween(from, to) {
    let peak = 0;
    for (const [at, rss] of this.samples) if (at >= from && at <= to && rss > peak) peak = rss;
    return peak;
  }

  current() {
    return memoryOf(this.pid);
  }

  stop() {
    clearInterval(this.timer);
  }
}

/**
 * CPU used by named processes and by each core over a window. Returned as percent of one core,
 * so 100 means "this process kept one core busy for the whole window".
 */
export function startCpuWindow(pids) {
  const t0 = performance.now();
  const foreign0 = foreignTicks();
  const before = Object.fromEntries(Object.entries(pids).filter(([, pid]) => pid).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  const cores0 = coreTimes();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const processes = {};
    for (const [name, start] of Object.entries(before)) {
      processes[name] = round1(((cpuSecondsOf(pids[name]) - start) / seconds) * 100);
    }
    const cores1 = coreTimes();
    const cores = {};
    for (const [id, c] of Object.entries(cores1)) {
      const b = cores0[id];
      if (b) cores[id] = round1(((c.busy - b.busy) / Math.max(1, c.total - b.total)) * 100);
    }
    const foreign1 = foreignTicks();
    let foreignTotal = 0;
    let top = { name: '', ticks: 0 };
    for (const [pid, { ticks, name }] of foreign1) {
      const delta = ticks - (foreign0.get(pid)?.ticks ?? 0);
      foreignTotal += delta;
      if (delta > top.ticks) top = { name, ticks: delta };
    }
    const foreign = round1((foreignTotal / TICKS_PER_SECOND / seconds) * 100);
    const busiest = top.ticks ? `${top.name} ${round1((top.ticks / TICKS_PER_SECOND / seconds) * 100)}%` : undefined;
    return { processes, cores, foreign, busiestForeign: busiest };
  };
}

const TICKS_PER_SECOND = 100;

/**
 * CPU ticks of every process that is not ours. On a shared machine (a colleague's compiler or
 * test run) this is what disturbs a measurement, so it is reported and, above a threshold, the
 * measurement is repeated. Processes that both start and end inside the window are missed.
 */
function foreignTicks() {
  const ours = new Set(processTree(process.pid));
  const out = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || ours.has(Number(entry))) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      // Kernel threads (children of kthreadd) include softirq work done for our own sockets.
      if (fields[1] === '2' || entry === '2') continue;
      out.set(entry, { ticks: Number(fields[11]) + Number(fields[12]), name: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

const round1 = (x) => Math.round(x * 10) / 10;
