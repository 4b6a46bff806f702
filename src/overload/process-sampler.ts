// Reads this process's load: event-loop delay since the last reading, V8 heap, resident memory.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export interface ResourceSample {
  /** The longest event-loop stall since the previous reading, in ms (0 when none). */
  eventLoopDelayMs: number;
  heapUsedBytes: number;
  /** The heap's ceiling (--max-old-space-size or V8's default for this machine). */
  heapLimitBytes: number;
  rssBytes: number;
}

/** One reading per call; the monitor calls it on its own timer. */
export interface Sampler {
  read(): ResourceSample;
  stop(): void;
}

/** The histogram's timer period. Its values include the period itself, so it is subtracted. */
export const EVENT_LOOP_RESOLUTION_MS = 10;

export interface ProcessSamplerOptions {
  /** How often read() is meant to be called: its lateness beyond this is a stall. */
  intervalMs: number;
  now?: () => number;
}

/**
 * The real measurements. The event-loop delay is the larger of two readings, because neither is
 * enough alone:
 * - the histogram's p99 over the window (its longest stall at the default window of ~10 values);
 * - how late this read() itself runs. Resetting the histogram forgets the interval it is timing,
 *   so a stall that ends just before read() (both timers overdue, ours run first) is never
 *   recorded; our own lateness is measured in every case, though it starts only at our due time.
 */
export function processSampler(options: ProcessSamplerOptions): Sampler {
  const now = options.now ?? (() => performance.now());
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  histogram.enable();
  let lastRead = now();
  return {
    read() {
      const at = now();
      const lateMs = at - lastRead - options.intervalMs;
      lastRead = at;
      // An empty window (count 0) means the histogram's timer never fired: our lateness covers it.
      const stallMs = histogram.count > 0 ? histogram.percentile(99) / 1e6 - EVENT_LOOP_RESOLUTION_MS : 0;
      histogram.reset();
      const heap = getHeapStatistics();
      return {
        eventLoopDelayMs: Math.max(0, lateMs, stallMs),
        heapUsedBytes: heap.used_heap_size,
        heapLimitBytes: heap.heap_size_limit,
        rssBytes: process.memoryUsage.rss(),
      };
    },
    stop() {
      histogram.disable();
    },
  };
}
