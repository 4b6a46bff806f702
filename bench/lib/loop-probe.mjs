// Preloaded into the Floodgate process by the benchmark (node --import), never by Floodgate
// itself. Once a second it appends the event loop's delay and utilisation and the heap size to
// the file named by FLOODGATE_BENCH_PROBE, so a slow measurement can be told apart: a saturated
// or blocked event loop (high delay, utilisation near 1) versus requests waiting on something
// while the loop is free.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const file = process.env.FLOODGATE_BENCH_PROBE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    const sample = { t: Date.now(), elu: Math.round(elu * 1000) / 1000, delayP50: ms(delay.percentile(50)), delayP99: ms(delay.percentile(99)), delayMax: ms(delay.max), heapUsed: process.memoryUsage().heapUsed };
    delay.reset();
    appendFileSync(file, `${JSON.stringify(sample)}\n`);
  }, 1000);
  timer.unref();
  // After a load, the harness asks for a full collection to tell garbage from memory that is
  // still held (a leak, or a cache): SIGUSR2 -> gc() -> one line with the live heap.
  if (typeof globalThis.gc === 'function') {
    process.on('SIGUSR2', () => {
      globalThis.gc();
      const { heapUsed } = process.memoryUsage();
      appendFileSync(file, `${JSON.stringify({ t: Date.now(), afterGc: true, heapUsed })}\n`);
    });
  }
}
