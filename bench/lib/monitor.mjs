// Watches the processes of one measurement: the proxy's memory every 100 ms (its peak is what a
// user must provision for) and the CPU each process and each core used, which tells which side
// was the bottleneck.
import { coreTimes, cpuSecondsOf, memoryOf } from './procs.mjs';

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
    return { processes, cores };
  };
}

const round1 = (x) => Math.round(x * 10) / 10;
