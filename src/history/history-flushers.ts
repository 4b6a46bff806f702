// The scale-out flushers of one process: N RedisStreamLog loops over the history stream, each with
// its own blocking connection, writing batches through the history writer and acknowledging them
// with the settle script (XACK, XDEL and the pending indexes in one step). Used by the gateway
// (storage.flush.flushers loops; 0 = this node only appends) and by `floodgate flush`.
import { closeRedis } from '../core/close-redis.js';
import type { Redis } from 'ioredis';
import type { StorageConfig } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import type { Database } from '../storage/database.js';
import { errorSummary, logWriteFailure } from './history-errors.js';
import { ENTRY_KINDS, historyWriter, type HistoryEntry } from './history-writer.js';
import { indexRemovals, type HistoryKeys } from './redis-keys.js';
import type { HistoryScripts } from './redis-scripts.js';
import { fieldValue, RedisStreamLog } from './redis-stream.js';

export type FlushConfig = StorageConfig['flush'];

export interface FlusherPoolOptions {
  /** Shared by the loops for claims, own-pending reads and acknowledgements. */
  redis: Redis;
  scripts: HistoryScripts;
  /** A new connection for one loop's blocking reads, which block up to `blockingMs`. */
  connectReader: (blockingMs: number) => Redis;
  db: Database;
  keys: HistoryKeys;
  flush: FlushConfig;
  /** Loops to run here; 0: none (flushNow and drain still work on demand). */
  loops: number;
  /** Unique per process; consumers are named <prefix>-<n>. */
  consumerPrefix: string;
  stateTtlMs: number;
  logger: Logger;
  /** Test hook, see redis-stream.ts crashPoint(). */
  crashPointMs?: number;
}

export class FlusherPool {
  private readonly loops: RedisStreamLog<HistoryEntry>[] = [];
  private readonly readers: Redis[] = [];
  private manualLog: RedisStreamLog<HistoryEntry> | undefined;
  /** The stream's length as last seen: acknowledgements and appends report it. */
  observedLength = 0;
  private readonly blockMs: number;

  constructor(private readonly options: FlusherPoolOptions) {
    const { interval_ms, retry_ms, claim_idle_ms } = options.flush;
    this.blockMs = Math.min(interval_ms, 1_000);
    // A live flusher holds a batch for up to the interval, or retries it every retry_ms: idle that
    // long, its entries would be claimed (and written twice, harmlessly but for nothing).
    if (options.loops > 0 && claim_idle_ms < 2 * (interval_ms + retry_ms)) {
      options.logger.warn({ claim_idle_ms, interval_ms, retry_ms }, 'storage.flush.claim_idle_ms is short: live flushers may take over each other\'s batches');
    }
    for (let n = 0; n < options.loops; n++) {
      const reader = options.connectReader(this.blockMs);
      this.readers.push(reader);
      this.loops.push(this.log(`${options.consumerPrefix}-${n}`, reader));
    }
  }

  /** Creates the consumer group if this is the stream's first use. */
  async init(): Promise<void> {
    await (this.loops[0] ?? this.manual()).init();
    this.observedLength = await this.options.redis.xlen(this.options.keys.stream);
  }

  start(): void {
    for (const log of this.loops) log.start();
  }

  /** Writes every entry no running flusher holds, now; resolves with how many were handled. */
  async flushNow(): Promise<number> {
    let total = 0;
    for (;;) {
      const handled = await this.manual().flushOnce(false);
      if (handled === 0) return total;
      total += handled;
    }
  }

  /**
   * Stops the loops after their batches in hand, then keeps flushing until every entry that was
   * in the stream when the drain began is written (other nodes' flushers may finish some), or
   * the deadline passes. A node without loops holds nothing of its own (its appends are already
   * durable in Redis), so it has nothing to drain.
   */
  async drain(deadlineMs: number): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    await Promise.all(this.loops.map((log) => log.stop()));
    if (this.loops.length === 0) return true;
    try {
      return await this.writeUntilDrained(until);
    } catch (error) {
      // Shutdown goes on: what is left stays in the stream for the other flushers, acknowledged by nobody.
      this.options.logger.warn({ err: errorSummary(error) }, 'history drain stopped early');
      return false;
    }
  }

  private async writeUntilDrained(until: number): Promise<boolean> {
    const newest = (await this.options.redis.xrevrange(this.options.keys.stream, '+', '-', 'COUNT', 1))[0]?.[0];
    if (newest === undefined) return true;
    for (;;) {
      const left = await this.options.redis.xrange(this.options.keys.stream, '-', newest, 'COUNT', 1);
      if (left.length === 0) return true;
      const remaining = until - Date.now();
      if (remaining <= 0) return false;
      let handled = 0;
      try {
        for (const log of this.loops) handled += await log.flushOnce(false);
      } catch (error) {
        this.options.logger.warn({ err: errorSummary(error) }, 'history drain: write failed; retrying');
        await sleep(Math.min(this.options.flush.retry_ms, remaining));
        continue;
      }
      // Nothing for us to take: the rest is in other flushers' hands, or not yet claimable.
      if (handled === 0) await sleep(Math.min(50, remaining));
    }
  }

  stats(): { batches: number; written: number; failedWrites: number } {
    const all = [...this.loops, ...(this.manualLog ? [this.manualLog] : [])];
    const sum = (pick: (log: RedisStreamLog<HistoryEntry>) => number) => all.reduce((total, log) => total + pick(log), 0);
    return { batches: sum((log) => log.stats.batches), written: sum((log) => log.stats.written), failedWrites: sum((log) => log.stats.failedWrites) };
  }

  /** Stops the loops (after their batches in hand), leaves the group where possible, closes readers. */
  async close(): Promise<void> {
    await Promise.all(this.loops.map((log) => log.stop()));
    const all = [...this.loops, ...(this.manualLog ? [this.manualLog] : [])];
    await Promise.all(all.map((log) => log.retire().catch(() => {})));
    await Promise.all(this.readers.map(closeRedis));
  }

  /** For flushNow and drain without loops: non-blocking reads only, so the shared connection serves. */
  private manual(): RedisStreamLog<HistoryEntry> {
    this.manualLog ??= this.log(`${this.options.consumerPrefix}-manual`, this.options.redis);
    return this.manualLog;
  }

  private log(consumer: string, reader: Redis): RedisStreamLog<HistoryEntry> {
    const { flush, keys, logger } = this.options;
    return new RedisStreamLog<HistoryEntry>({
      redis: this.options.redis,
      reader,
      writer: historyWriter(this.options.db),
      options: {
        key: keys.stream, group: keys.group, consumer, batchSize: flush.batch_size, blockMs: this.blockMs,
        intervalMs: flush.interval_ms, claimIdleMs: flush.claim_idle_ms, retryMs: flush.retry_ms,
        ...(this.options.crashPointMs !== undefined ? { crashPointMs: this.options.crashPointMs } : {}),
      },
      onWriteError: logWriteFailure(logger, consumer),
      decode: decodeEntry,
      acknowledge: (ids, values) => this.acknowledge(ids, values),
      onMalformed: (id, error) => logger.error({ id, err: errorSummary(error) }, 'malformed history entry dropped'),
    });
  }

  private async acknowledge(ids: string[], values: HistoryEntry[]): Promise<void> {
    const { keys, ops } = indexRemovals(this.options.keys, values);
    this.observedLength = await this.options.scripts.settle(keys, [this.options.keys.group, this.options.stateTtlMs, ids.length, ...ids, ...ops]);
  }
}

/** A stream entry (fields k and d, as the scripts write them) as a HistoryEntry. */
export function decodeEntry(fields: string[]): HistoryEntry {
  const kind = fieldValue(fields, 'k');
  if (!ENTRY_KINDS.has(kind)) throw new Error(`unknown history entry kind "${kind.slice(0, 40)}"`);
  return { kind, row: JSON.parse(fieldValue(fields, 'd')) } as HistoryEntry;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
