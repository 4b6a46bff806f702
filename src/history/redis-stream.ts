// The scale-out mode's durable log: a write is appended to a Redis Stream (the write the caller's
// success waits for), and flushers in a consumer group write batches to PostgreSQL, acknowledging
// entries only after the transaction committed. So nothing acknowledged is lost:
// - a flusher that dies after reading (or after committing but before XACK) leaves its entries
//   pending; another flusher takes them over with XAUTOCLAIM once they have been idle long
//   enough, and the store's ON CONFLICT DO NOTHING makes the second write a no-op;
// - a failed write leaves the batch pending in this consumer, which retries it first.
// Acknowledged entries are deleted from the stream, so it holds only what is not yet durable.
import type { Redis } from 'ioredis';
import type { BatchWriter } from './write-buffer.js';

export interface StreamLogOptions {
  /** The stream's key, e.g. floodgate:history. */
  key: string;
  /** The consumer group all flushers share. */
  group: string;
  /** This flusher's name in the group (unique per process). */
  consumer: string;
  batchSize: number;
  /** How long one read waits for new entries (also how quickly stop() is noticed). */
  blockMs: number;
  /** Entries pending this long in another consumer are taken over (that flusher is presumed dead). */
  claimIdleMs: number;
  /** Wait after a failed write. */
  retryMs: number;
}

type StreamEntries = Array<[id: string, fields: string[]]>;

export class RedisStreamLog<T> {
  private stopped = false;
  private loop: Promise<void> | undefined;
  readonly stats = { batches: 0, written: 0, failedWrites: 0, claimed: 0 };

  constructor(
    /** For appends and acknowledgements. */
    private readonly redis: Redis,
    /** A connection of its own for blocking reads, so appends never wait behind them. */
    private readonly reader: Redis,
    private readonly writer: BatchWriter<T>,
    private readonly options: StreamLogOptions,
    private readonly onWriteError: (error: unknown) => void = () => {},
  ) {}

  /** Creates the consumer group (and stream) if missing; reading from the start, so nothing is skipped. */
  async init(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.options.key, this.options.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  /** Appends entries; resolves once Redis has them all (then they survive this process). */
  async append(entries: readonly T[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const entry of entries) pipeline.xadd(this.options.key, '*', 'd', JSON.stringify(entry));
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  }

  /** Starts the flush loop. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops after the batch in hand; what is still in the stream stays for the other flushers. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /**
   * One step: this consumer's own pending entries first (a write that failed), then entries
   * abandoned by dead flushers, then new ones. Returns how many entries were written.
   */
  async flushOnce(block = true): Promise<number> {
    const batch = (await this.ownPending()) ?? (await this.claimAbandoned()) ?? (await this.readNew(block));
    if (batch.length === 0) return 0;
    const ids = batch.map(([id]) => id);
    const values = batch.map(([, fields]) => JSON.parse(fieldValue(fields, 'd')) as T);
    await this.writer.write(values);
    // Only now is the batch durable: acknowledge it and drop it from the stream in one round trip.
    await this.redis.multi().xack(this.options.key, this.options.group, ...ids).xdel(this.options.key, ...ids).exec();
    this.stats.batches += 1;
    this.stats.written += values.length;
    return values.length;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.flushOnce();
      } catch (error) {
        this.stats.failedWrites += 1;
        this.onWriteError(error);
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs));
      }
    }
  }

  private async ownPending(): Promise<StreamEntries | undefined> {
    const reply = (await this.redis.xreadgroup(
      'GROUP', this.options.group, this.options.consumer, 'COUNT', this.options.batchSize, 'STREAMS', this.options.key, '0',
    )) as Array<[string, StreamEntries]> | null;
    const entries = reply?.[0]?.[1] ?? [];
    return entries.length > 0 ? entries : undefined;
  }

  private async claimAbandoned(): Promise<StreamEntries | undefined> {
    const reply = (await this.redis.xautoclaim(
      this.options.key, this.options.group, this.options.consumer, this.options.claimIdleMs, '0-0', 'COUNT', this.options.batchSize,
    )) as [string, StreamEntries, string[]?];
    // Entries deleted meanwhile come back as nulls; they need no writing.
    const entries = (reply[1] ?? []).filter((entry) => entry !== null && Array.isArray(entry[1]));
    if (entries.length === 0) return undefined;
    this.stats.claimed += entries.length;
    return entries;
  }

  private async readNew(block: boolean): Promise<StreamEntries> {
    const args: Array<string | number> = ['GROUP', this.options.group, this.options.consumer, 'COUNT', this.options.batchSize];
    if (block) args.push('BLOCK', this.options.blockMs);
    args.push('STREAMS', this.options.key, '>');
    const reply = (await (this.reader.xreadgroup as (...a: Array<string | number>) => Promise<unknown>)(...args)) as Array<[string, StreamEntries]> | null;
    return reply?.[0]?.[1] ?? [];
  }
}

function fieldValue(fields: string[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]!;
  throw new Error(`stream entry without field ${name}`);
}
