// The memory backend's own guarantees, on a fake clock: exact GCRA even when 60 s / limit is not
// a whole number of ms, daily quotas that turn over at 00:00 UTC, and a bounded entry count
// after a million distinct identities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeClock } from '../../test/support/limits-backends.js';
import { DAY_MS } from './gcra.js';
import { MemoryLimiter } from './memory-store.js';
import type { Admitted, Decision, Refused } from './types.js';

const START = Date.UTC(2030, 0, 15, 12);
const wait = (d: Decision): number | null => {
  assert.equal(d.allowed, false);
  return (d as Refused).retryAfterMs;
};

test('rpm 7: the k-th request after the burst is admitted at exactly ceil(k * 60000 / 7) ms, with no drift over 700 of them', () => {
  const clock = fakeClock(START);
  const limiter = new MemoryLimiter({ clock: clock.now });
  const decide = () => limiter.decideNow({ identity: 'ip:1', limits: { rpm: 7 }, estimatedTokens: 0 });
  for (let i = 0; i < 7; i++) assert.equal(decide().allowed, true);
  for (let k = 1; k <= 700; k++) {
    const due = START + Math.ceil((k * 60_000) / 7);
    const refusal = wait(decide());
    assert.equal(clock.now() + refusal!, due, `request ${k}`);
    clock.set(due - 1);
    assert.equal(wait(decide()), 1);
    clock.set(due);
    assert.equal(decide().allowed, true, `request ${k} at its due time`);
  }
});

test('daily quotas turn over at 00:00 UTC exactly, and a reconcile from yesterday leaves today alone', () => {
  const clock = fakeClock(Date.UTC(2030, 0, 15, 23, 59, 59));
  const limiter = new MemoryLimiter({ clock: clock.now });
  const limits = { daily_requests: 2, daily_tokens: 1_000 };
  const decide = (tokens = 100) => limiter.decideNow({ identity: 'key:team-a', limits, estimatedTokens: tokens });
  const late = decide() as Admitted;
  assert.equal(late.allowed, true);
  assert.equal(decide().allowed, true);
  const refused = decide() as Refused;
  assert.equal(refused.limit, 'daily_requests');
  assert.equal(refused.retryAfterMs, 1_000);
  clock.advance(999);
  assert.equal(wait(decide()), 1);
  clock.advance(1);
  assert.equal(decide(900).allowed, true); // a new day: 900 of 1,000 tokens
  void late.admission.reconcile(0); // refunds yesterday's 100, not today's
  const full = decide(101) as Refused;
  assert.equal(full.limit, 'daily_tokens');
  assert.equal(full.retryAfterMs, DAY_MS);
  assert.equal(decide(100).allowed, true);
});

test('a million distinct identities: fresh entries are swept as they go', () => {
  const clock = fakeClock(START);
  const limiter = new MemoryLimiter({ clock: clock.now });
  let largest = 0;
  for (let i = 0; i < 1_000_000; i++) {
    limiter.decideNow({ identity: `ip:${i}`, limits: { rpm: 20, tpm: 40_000 }, estimatedTokens: 500 });
    clock.advance(1); // 1,000 new callers a second; each is fresh again 3 s after its request
    if (limiter.size > largest) largest = limiter.size;
  }
  // About 3,000 callers are within their 3 s; the cursor passes each entry at least every
  // (entries / 2) decisions, so a fresh one lingers at most that long: twice as many at most.
  assert.ok(largest <= 7_000, `largest ${largest}`);
  clock.advance(60_000);
  for (let i = 0; i < 3_000; i++) limiter.decideNow({ identity: 'ip:steady', limits: { rpm: 1e6 }, estimatedTokens: 0 });
  assert.equal(limiter.size, 1);
});

test('a million distinct identities that stay busy all day: the cap evicts the least recently used', () => {
  const clock = fakeClock(START);
  const limiter = new MemoryLimiter({ clock: clock.now, maxEntries: 50_000 });
  const limits = { daily_requests: 1, rpm: 20 };
  const decide = (identity: string) => limiter.decideNow({ identity, limits, estimatedTokens: 0 });
  assert.equal(decide('ip:regular').allowed, true);
  for (let i = 0; i < 1_000_000; i++) {
    decide(`ip:${i}`);
    // A caller active throughout keeps its entry (and its spent daily quota).
    if (i % 10_000 === 0) assert.equal(decide('ip:regular').allowed, false);
    assert.ok(limiter.size <= 50_000);
  }
  assert.equal(limiter.size, 50_000);
  assert.equal(decide('ip:999999').allowed, false);
});

test('entries holding a concurrency slot are never swept; released ones are', () => {
  const clock = fakeClock(START);
  const limiter = new MemoryLimiter({ clock: clock.now });
  const held = limiter.decideNow({ identity: 'ip:held', limits: { concurrency: 1 }, estimatedTokens: 0 }) as Admitted;
  const done = limiter.decideNow({ identity: 'ip:done', limits: { concurrency: 1 }, estimatedTokens: 0 }) as Admitted;
  void done.admission.release();
  clock.advance(1);
  limiter.sweep(10);
  assert.equal(limiter.size, 1);
  assert.equal(limiter.decideNow({ identity: 'ip:held', limits: { concurrency: 1 }, estimatedTokens: 0 }).allowed, false);
  void held.admission.release();
  assert.equal(limiter.decideNow({ identity: 'ip:held', limits: { concurrency: 1 }, estimatedTokens: 0 }).allowed, true);
});
