// The scale-out mode's durable log: a write is appended to a Redis Stream (the write the caller's
// success waits for), and flushers in a consumer group write batches to PostgreSQL, acknowledging
// entries only after the transaction committed. So nothing acknowledged is lost:
// - a flusher that dies after reading (or after committing but before XACK) leaves its entries
//   pending; another flusher takes them over with XAUTOCLAIM once they have been idle long
//   enough, and the store's ON CONFLICT DO NOTHING makes the second write a no-op;
// - a failed write leaves the batch pending in this consumer, which retries it first (reading its
//   own pending entries also refreshes their idle time, so a live flusher's retries are not
//   claimed while claimIdleMs exceeds retryMs plus one write);
// - an entry that cannot be decoded can never be written: it is reported and acknowledged, so it
//   does not stall every flusher in turn.
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
  /** How long one blocking read waits (also how quickly stop() is noticed). */
  blockMs: number;
  /**
   * A partial batch is gathered for at most this long after its first entry was read, so 1,000
   * trickling writes cost a few transactions, not 1,000. 0 (default): write what one read gave.
   */
  intervalMs?: number;
  /** Entries pending this long in another consumer are taken over (that flusher is presumed dead). */
  claimIdleMs: number;
  /** Wait after a failed write. */
  retryMs: number;
  /** TEST HOOK, see crashPoint() below; undefined in normal operation. */
  crashPointMs?: number;
}

export interface StreamLogParts<T> {
  /** For appends, own-pending reads, claims and acknowledgements. */
  redis: Redis;
  /** A connection of its own for blocking reads, so other commands never wait behind them. */
  reader: Redis;
  writer: BatchWriter<T>;
  options: StreamLogOptions;
  onWriteError?: (error: unknown) => void;
  /** An entry's fields as a value; default: JSON in field `d` (what append() writes). */
  decode?: (fields: string[]) => T;
  /** Acknowledges entries once written; default: XACK and XDEL in one MULTI. */
  acknowledge?: (ids: string[], values: T[]) => Promise<void>;
  /** Told of each entry that could not be decoded (it is acknowledged and dropped). */
  onMalformed?: (id: string, error: unknown) => void;
}

type StreamEntries = Array<[id: string, fields: string[]]>;

export class RedisStreamLog<T> {
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Where the next XAUTOCLAIM scan starts: each call scans a bounded slice of the pending list. */
  private claimCursor = '0-0';
  readonly stats = { batches: 0, written: 0, failedWrites: 0, claimed: 0 };
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly options: StreamLogOptions;
  private readonly decode: (fields: string[]) => T;
  private readonly acknowledge: (ids: string[], values: T[]) => Promise<void>;

  constructor(private readonly parts: StreamLogParts<T>) {
    this.redis = parts.redis;
    this.reader = parts.reader;
    this.options = parts.options;
    this.decode = parts.decode ?? ((fields) => JSON.parse(fieldValue(fields, 'd')) as T);
    this.acknowledge = parts.acknowledge ?? (async (ids) => {
      await this.redis.multi().xack(this.options.key, this.options.group, ...ids).xdel(this.options.key, ...ids).exec();
    });
  }

  /** Creates the consumer group (and stream) if missing; reading from the start, so nothing is skipped. */
  async init(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.options.key, this.options.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  /** Appends entries as JSON; resolves once Redis has them all (then they survive this process). */
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
   * Leaves the group, once stopped, if nothing is pending under this consumer's name (a restart
   * gets a new name, and the group would otherwise list every consumer that ever ran). With
   * entries pending, it stays: deleting it would drop them from the group's pending list.
   */
  async retire(): Promise<void> {
    const pending = (await this.redis.xpending(this.options.key, this.options.group, '-', '+', 1, this.options.consumer)) as unknown[];
    if (pending.length === 0) await this.redis.xgroup('DELCONSUMER', this.options.key, this.options.group, this.options.consumer);
  }

  /**
   * One step: this consumer's own pending entries first (a write that failed), then entries
   * abandoned by dead flushers, then new ones. Returns how many entries were handled.
   */
  async flushOnce(block = true): Promise<number> {
    const batch = (await this.ownPending()) ?? (await this.claimAbandoned()) ?? (await this.readNew(block));
    if (batch.length === 0) return 0;
    const ids = batch.map(([id]) => id);
    const values: T[] = [];
    for (const [id, fields] of batch) {
      try {
        values.push(this.decode(fields));
      } catch (error) {
        this.parts.onMalformed?.(id, error);
      }
    }
    if (values.length > 0) await this.parts.writer.write(values);
    if (this.options.crashPointMs !== undefined) await crashPoint(values.length, this.options.crashPointMs);
    // Only now is the batch durable: acknowledge it (and drop it from the stream).
    await this.acknowledge(ids, values);
    this.stats.batches += 1;
    this.stats.written += values.length;
    return ids.length;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.flushOnce();
      } catch (error) {
        this.stats.failedWrites += 1;
        this.parts.onWriteError?.(error);
        await sleep(this.options.retryMs);
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
      this.options.key, this.options.group, this.options.consumer, this.options.claimIdleMs, this.claimCursor, 'COUNT', this.options.batchSize,
    )) as [string, StreamEntries, string[]?];
    this.claimCursor = reply[0] ?? '0-0';
    // Entries deleted meanwhile come back as nulls; they need no writing.
    const entries = (reply[1] ?? []).filter((entry) => entry !== null && Array.isArray(entry[1]));
    if (entries.length === 0) return undefined;
    this.stats.claimed += entries.length;
    return entries;
  }

  /** New entries: one read, then (when blocking) more until the batch is full or the interval is over. */
  private async readNew(block: boolean): Promise<StreamEntries> {
    const { batchSize, blockMs, intervalMs = 0 } = this.options;
    const batch = await this.read(batchSize, block ? blockMs : undefined);
    if (!block || batch.length === 0 || intervalMs <= 0) return batch;
    const due = Date.now() + intervalMs;
    while (batch.length < batchSize && !this.stopped) {
      // Never block past blockMs, so a stop() is still noticed quickly while gathering.
      const wait = Math.min(due - Date.now(), blockMs);
      if (wait < 1) break;
      batch.push(...(await this.read(batchSize - batch.length, wait)));
    }
    return batch;
  }

  private async read(count: number, blockMs: number | undefined): Promise<StreamEntries> {
    const args: Array<string | number> = ['GROUP', this.options.group, this.options.consumer, 'COUNT', count];
    if (blockMs !== undefined) args.push('BLOCK', Math.max(1, Math.round(blockMs)));
    args.push('STREAMS', this.options.key, '>');
    const connection = blockMs === undefined ? this.redis : this.reader;
    const reply = (await (connection.xreadgroup as (...a: Array<string | number>) => Promise<unknown>)(...args)) as Array<[string, StreamEntries]> | null;
    return reply?.[0]?.[1] ?? [];
  }
}

/**
 * TEST HOOK for crash tests, nothing else: set FLOODGATE_CRASHPOINT_AFTER_COMMIT_MS and every
 * flusher, after each commit, prints "floodgate-crashpoint: committed <n> entries" to stderr and
 * sleeps that many ms before acknowledging, so a test can kill -9 it between commit and XACK and
 * check that another flusher claims the batch and nothing is written twice.
 */
async function crashPoint(entries: number, ms: number): Promise<void> {
  process.stderr.write(`floodgate-crashpoint: committed ${entries} entries\n`);
  await sleep(ms);
}

/** The crash point's delay from the environment; undefined (no hook) unless set to a number. */
export function crashPointFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.FLOODGATE_CRASHPOINT_AFTER_COMMIT_MS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export function fieldValue(fields: string[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]!;
  throw new Error(`stream entry without field ${name}`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
