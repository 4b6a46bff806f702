// The `overload:` section of the configuration file: when this process refuses new requests with a
// 503 so that the ones it already accepted still finish. Every limit is per process.
import { z } from 'zod';

export const overloadSchema = z.strictObject({
  /** Off: nothing is refused for load (the in-flight count is still kept). */
  enabled: z.boolean().default(true),
  /**
   * The longest event-loop stall in a sample window (its p99 at 10 ms resolution, or the sampler's
   * own lateness). 200 ms is what a client of a small request starts to notice, and far above
   * what a healthy gateway shows (a few ms); a stall that long means work is piling up.
   */
  max_event_loop_delay_ms: z.int().positive().default(200),
  /** V8 heap in use as a share of its limit (--max-old-space-size); past ~0.9 GC thrashes, then the process dies. */
  max_heap_used_ratio: z.number().gt(0).max(1).default(0.9),
  /** V8 heap in use, in MiB; not enforced unless set. */
  max_heap_mb: z.int().positive().optional(),
  /** Resident memory, in MiB, for a container's memory limit (set it somewhat below that); not enforced unless set. */
  max_rss_mb: z.int().positive().optional(),
  /** HTTP requests being answered at once (streams included; health and metrics excluded). */
  max_in_flight: z.int().positive().default(2_000),
  /** Event-loop delay, heap and RSS are read this often; a request's decision reads the last reading. */
  sample_interval_ms: z.int().min(20).max(10_000).default(100),
  /** Sent as Retry-After with each refusal. */
  retry_after_s: z.int().min(1).max(3_600).default(1),
});

export type OverloadConfig = z.infer<typeof overloadSchema>;
