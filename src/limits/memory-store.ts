// The per-process rate limiter: exact (gcra.ts), synchronous underneath, and bounded in memory.
// Used alone when limits.backend is memory, and as the fallback while Redis is unreachable.
//
// Bounded: one entry per identity, kept in a Map in least-recently-used order (a decision moves
// its entry to the end). Each decision also inspects a couple of entries at a rolling cursor and
// drops those equal to a fresh one (budgets full, nothing in flight, no count for today), so
// idle identities go away at a steady, bounded cost; past maxEntries the least recently used is
// evicted even if not fresh (that identity then starts with a full budget: the price of a cap).
import { advance, budgetOf, dayOf, fromNow, RefusalPicker, tokenCost, untilMidnight, waitMs, type Tat } from './gcra.js';
import {
  DEFAULT_CONCURRENCY_RETRY_MS, type Admission, type Budgets, type Clock, type Decision, type LimitName, type LimitRequest, type RateLimiter,
} from './types.js';

interface Entry {
  requests: Tat;
  tokens: Tat;
  inFlight: number;
  day: number;
  dayRequests: number;
  dayTokens: number;
}

export interface MemoryLimiterOptions {
  clock?: Clock;
  /** Identities kept at most; the least recently used beyond it is evicted. */
  maxEntries?: number;
  /** Entries inspected for freshness per decision. */
  sweepPerDecision?: number;
  concurrencyRetryMs?: number;
}

const EMPTY: Tat = { ms: 0, frac: 0 };
const done = Promise.resolve();

export class MemoryLimiter implements RateLimiter {
  private readonly entries = new Map<string, Entry>();
  private cursor: Iterator<[string, Entry]> = this.entries.entries();
  private oldest: Iterator<string> = this.entries.keys();
  private readonly clock: Clock;
  private readonly maxEntries: number;
  private readonly sweepPerDecision: number;
  private readonly concurrencyRetryMs: number;

  constructor(options: MemoryLimiterOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.maxEntries = options.maxEntries ?? 200_000;
    this.sweepPerDecision = options.sweepPerDecision ?? 2;
    this.concurrencyRetryMs = options.concurrencyRetryMs ?? DEFAULT_CONCURRENCY_RETRY_MS;
  }

  /** Identities currently held. */
  get size(): number {
    return this.entries.size;
  }

  decide(request: LimitRequest): Promise<Decision> {
    try {
      return Promise.resolve(this.decideNow(request));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The same decision without the promise, for callers in a hot loop. */
  decideNow({ identity, limits, estimatedTokens }: LimitRequest): Decision {
    const now = this.clock();
    const day = dayOf(now);
    const cost = tokenCost(estimatedTokens);
    const entry = this.touch(identity, now);
    const { rpm, tpm, concurrency, daily_requests: dailyRequests, daily_tokens: dailyTokens } = limits;
    const sameDay = entry.day === day;
    const usedRequests = sameDay ? entry.dayRequests : 0;
    const usedTokens = sameDay ? entry.dayTokens : 0;

    const picker = new RefusalPicker<LimitName>();
    const requests = rpm ? advance(fromNow(entry.requests, now), rpm, 1) : entry.requests;
    if (rpm) {
      const wait = waitMs(requests, now);
      if (wait > 0) picker.refuse('requests', wait);
    }
    const tokens = tpm ? advance(fromNow(entry.tokens, now), tpm, cost) : entry.tokens;
    if (tpm) {
      const wait = cost > tpm ? null : waitMs(tokens, now);
      if (wait !== 0) picker.refuse('tokens', wait);
    }
    if (concurrency && entry.inFlight >= concurrency) picker.refuse('concurrency', this.concurrencyRetryMs);
    if (dailyRequests && usedRequests + 1 > dailyRequests) picker.refuse('daily_requests', untilMidnight(now));
    if (dailyTokens && usedTokens + cost > dailyTokens) picker.refuse('daily_tokens', cost > dailyTokens ? null : untilMidnight(now));

    if (picker.limit !== undefined) {
      return { allowed: false, limit: picker.limit, retryAfterMs: picker.wait, budgets: budgets(entry, limits, now), backend: 'memory' };
    }
    entry.requests = requests;
    entry.tokens = tokens;
    // Day counts only for enforced quotas: a count kept for nothing would hold the entry all day.
    if (dailyRequests || dailyTokens) {
      entry.day = day;
      entry.dayRequests = dailyRequests ? usedRequests + 1 : 0;
      entry.dayTokens = dailyTokens ? usedTokens + cost : 0;
    }
    if (concurrency) entry.inFlight++;
    return { allowed: true, admission: this.admission(identity, entry, limits, cost, day, Boolean(concurrency)), budgets: budgets(entry, limits, now), backend: 'memory' };
  }

  /** Inspects up to `count` entries at the cursor, dropping fresh ones; returns how many it dropped. */
  sweep(count: number, now = this.clock()): number {
    let dropped = 0;
    for (let i = 0; i < count && this.entries.size > 0; i++) {
      let next = this.cursor.next();
      if (next.done) {
        this.cursor = this.entries.entries();
        next = this.cursor.next();
      }
      const [identity, entry] = next.value as [string, Entry];
      if (isFresh(entry, now)) {
        this.entries.delete(identity);
        dropped++;
      }
    }
    return dropped;
  }

  close(): Promise<void> {
    this.entries.clear();
    return done;
  }

  /** The identity's entry, moved to the most recently used end; sweeps and caps on the way. */
  private touch(identity: string, now: number): Entry {
    // Sweep first: it may drop this very identity (fine, it was fresh), never the entry returned.
    if (this.sweepPerDecision > 0) this.sweep(this.sweepPerDecision, now);
    let entry = this.entries.get(identity);
    if (entry) this.entries.delete(identity);
    else entry = { requests: EMPTY, tokens: EMPTY, inFlight: 0, day: 0, dayRequests: 0, dayTokens: 0 };
    this.entries.set(identity, entry);
    if (this.entries.size > this.maxEntries) this.evictOldest();
    return entry;
  }

  /**
   * Through a long-lived iterator: everything before it has been evicted, so its next key is the
   * oldest. A fresh keys() would walk the holes deleted entries leave at the head of the Map on
   * every eviction.
   */
  private evictOldest(): void {
    let next = this.oldest.next();
    if (next.done) {
      this.oldest = this.entries.keys();
      next = this.oldest.next();
    }
    if (!next.done) this.entries.delete(next.value);
  }

  private admission(identity: string, entry: Entry, limits: LimitRequest['limits'], cost: number, day: number, holdsSlot: boolean): Admission {
    let released = !holdsSlot;
    let reconciled = false;
    return {
      release: () => {
        // The entry object itself, not a lookup: if it was evicted meanwhile, the slot went with it.
        if (!released && entry.inFlight > 0) entry.inFlight--;
        released = true;
        return done;
      },
      reconcile: (actualTokens, settlement) => {
        if (reconciled || !(actualTokens >= 0)) return done;
        reconciled = true;
        const difference = tokenCost(actualTokens) - cost;
        const giveBackRequest = Boolean(settlement?.unserved && limits.daily_requests);
        if (difference === 0 && !giveBackRequest) return done;
        const now = this.clock();
        // By lookup: a swept entry is recreated, so over-use is charged even then.
        const current = this.entries.get(identity) ?? this.touch(identity, now);
        if (limits.tpm && difference !== 0) {
          const tokens = advance(fromNow(current.tokens, now), limits.tpm, difference);
          current.tokens = tokens.ms < now ? { ms: now, frac: 0 } : tokens;
        }
        // Day counts only while the day charged is still the current one.
        if (limits.daily_tokens && current.day === day) current.dayTokens = Math.max(0, current.dayTokens + difference);
        if (giveBackRequest && current.day === day) current.dayRequests = Math.max(0, current.dayRequests - 1);
        return done;
      },
    };
  }
}

function isFresh(entry: Entry, now: number): boolean {
  return entry.inFlight === 0 && entry.requests.ms < now && entry.tokens.ms < now
    && (entry.day !== dayOf(now) || (entry.dayRequests === 0 && entry.dayTokens === 0));
}

function budgets(entry: Entry, limits: LimitRequest['limits'], now: number): Budgets {
  const result: Budgets = {};
  if (limits.rpm) result.requests = budgetOf(entry.requests, limits.rpm, now);
  if (limits.tpm) result.tokens = budgetOf(entry.tokens, limits.tpm, now);
  return result;
}
