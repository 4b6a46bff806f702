// The embedded mode's hot buffer: writes (conversation items, usage records) are accepted into
// memory at once and written to the database in batches, one transaction per batch, so a chat
// turn never waits for the database and 1,000 items cost two transactions, not 1,000.
//
// Rules:
// - a batch leaves the buffer only after its transaction committed; a failed write keeps it, in
//   order, and is retried after `retryMs` (the database may be down for a while);
// - the buffer is bounded: past `maxBuffered` entries, append() refuses with a 503 and a
//   Retry-After, so a long outage sheds load instead of eating the heap;
// - drain() on shutdown writes everything still buffered before the process exits.
// Entries must be idempotent to write (the store inserts with ON CONFLICT DO NOTHING), since a
// transaction that committed but whose answer was lost is retried.
import { shuttingDown } from '../core/errors.js';
import { historyBacklog } from './history-errors.js';

export interface BatchWriter<T> {
  /** Writes the batch in one transaction; throws when nothing was committed. */
  write(batch: readonly T[]): Promise<void>;
}

export interface WriteBufferOptions {
  /** Entries per transaction at most. */
  batchSize: number;
  /** A partial batch is written at the latest this long after its first entry arrived. */
  intervalMs: number;
  /** Entries held at most; beyond, append() refuses with 503. */
  maxBuffered: number;
  /** Wait after a failed write before trying again. */
  retryMs: number;
}

export interface WriteBufferStats {
  buffered: number;
  /** Committed transactions and the entries they carried. */
  batches: number;
  written: number;
  failedWrites: number;
}

export class MemoryWriteBuffer<T> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDue = 0;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private readonly counters = { batches: 0, written: 0, failedWrites: 0 };

  constructor(
    private readonly writer: BatchWriter<T>,
    private readonly options: WriteBufferOptions,
    /** Told of each failed write, for logs. */
    private readonly onWriteError: (error: unknown) => void = () => {},
  ) {}

  /** Accepts entries for writing; throws a 503 GatewayError when the buffer is full or stopped. */
  append(entries: readonly T[]): void {
    if (this.stopped) throw shuttingDown();
    if (this.queue.length + entries.length > this.options.maxBuffered) throw historyBacklog(this.options.retryMs);
    for (const entry of entries) this.queue.push(entry);
    if (this.queue.length >= this.options.batchSize) this.kick(0);
    else this.kick(this.options.intervalMs);
  }

  /** Entries not yet committed, oldest first: reads merge them with what the database holds. */
  pending(): readonly T[] {
    return this.queue;
  }

  stats(): WriteBufferStats {
    return { buffered: this.queue.length, ...this.counters };
  }

  /**
   * Writes everything buffered (and refuses new entries), giving up at the deadline; true when
   * the buffer is empty.
   */
  async drain(deadlineMs: number): Promise<boolean> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const until = Date.now() + deadlineMs;
    while (this.queue.length > 0 && Date.now() < until) {
      const failuresBefore = this.counters.failedWrites;
      await this.writeOnce();
      if (this.counters.failedWrites > failuresBefore) await sleep(Math.min(this.options.retryMs, Math.max(0, until - Date.now())));
    }
    return this.queue.length === 0;
  }

  /** Writes one batch now (tests and drain); resolves when that attempt is over. */
  async writeOnce(): Promise<void> {
    if (this.writing) return this.writing;
    const batch = this.queue.slice(0, this.options.batchSize);
    if (batch.length === 0) return;
    this.writing = (async () => {
      let failed = false;
      try {
        await this.writer.write(batch);
        // Appends only push at the tail, so the head is still exactly this batch.
        this.queue.splice(0, batch.length);
        this.counters.batches += 1;
        this.counters.written += batch.length;
      } catch (error) {
        failed = true;
        this.counters.failedWrites += 1;
        this.onWriteError(error);
      } finally {
        this.writing = undefined;
      }
      // What arrived meanwhile, or is left: full batches at once, a failure after retryMs.
      if (this.queue.length > 0) this.kick(failed ? this.options.retryMs : this.queue.length >= this.options.batchSize ? 0 : this.options.intervalMs);
    })();
    return this.writing;
  }

  /** Schedules the next write in `delayMs` unless one is scheduled sooner or running. */
  private kick(delayMs: number): void {
    if (this.stopped || this.writing) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeOnce();
    }, delayMs);
    // A buffered write must not keep an otherwise finished process alive; drain() is the exit path.
    this.timer.unref();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
