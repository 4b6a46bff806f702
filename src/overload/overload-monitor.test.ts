// The monitor's decisions from readings we choose: each reason trips past its limit, holds until
// its metric falls below RECOVERY_RATIO of the limit, then recovers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OverloadMonitor, RECOVERY_RATIO, type OverloadDecision } from './overload-monitor.js';
import { overloadSchema, type OverloadConfig } from './overload-schema.js';
import type { ResourceSample, Sampler } from './process-sampler.js';

const MIB = 1024 * 1024;
const CALM: ResourceSample = { eventLoopDelayMs: 1, heapUsedBytes: 100 * MIB, heapLimitBytes: 1000 * MIB, rssBytes: 200 * MIB };

/** A monitor without a timer whose next reading is whatever `feed` last set. */
function monitorWith(overrides: Partial<OverloadConfig> = {}) {
  let next = CALM;
  let stopped = false;
  const sampler: Sampler = { read: () => next, stop: () => (stopped = true) };
  const monitor = new OverloadMonitor(overloadSchema.parse(overrides), { sampler, timer: false });
  return {
    monitor,
    stopped: () => stopped,
    /** Takes a reading of CALM changed by `change`, and returns the decision for `inFlight`. */
    feed(change: Partial<ResourceSample>, inFlight = 0): OverloadDecision {
      next = { ...CALM, ...change };
      monitor.sample();
      return monitor.check(inFlight);
    },
  };
}

const reasonOf = (d: OverloadDecision): string => (d.overloaded ? d.reason : 'accept');

describe('OverloadMonitor', () => {
  test('accepts before any reading and with calm readings', () => {
    const m = monitorWith();
    assert.deepEqual(m.monitor.check(0), { overloaded: false });
    assert.equal(reasonOf(m.feed({})), 'accept');
    assert.deepEqual(m.monitor.lastSample, CALM);
  });

  test('event-loop delay: trips past the limit, holds above 80 %, recovers below', () => {
    const m = monitorWith({ max_event_loop_delay_ms: 200, retry_after_s: 3 });
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 200 })), 'accept', 'at the limit is not past it');
    assert.deepEqual(m.feed({ eventLoopDelayMs: 201 }), { overloaded: true, reason: 'event_loop_delay', retryAfterSeconds: 3 });
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 170 })), 'event_loop_delay', 'hysteresis holds');
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 200 * RECOVERY_RATIO })), 'event_loop_delay', 'at 80 % still held');
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 159 })), 'accept');
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 190 })), 'accept', 'below the limit again: no re-trip');
  });

  test('heap ratio of the V8 limit', () => {
    const m = monitorWith({ max_heap_used_ratio: 0.9 });
    assert.equal(reasonOf(m.feed({ heapUsedBytes: 900 * MIB })), 'accept');
    assert.equal(reasonOf(m.feed({ heapUsedBytes: 901 * MIB })), 'heap');
    assert.equal(reasonOf(m.feed({ heapUsedBytes: 800 * MIB })), 'heap');
    assert.equal(reasonOf(m.feed({ heapUsedBytes: 700 * MIB })), 'accept');
  });

  test('heap in MiB, only when set', () => {
    assert.equal(reasonOf(monitorWith().feed({ heapUsedBytes: 800 * MIB })), 'accept');
    const m = monitorWith({ max_heap_mb: 500 });
    assert.equal(reasonOf(m.feed({ heapUsedBytes: 501 * MIB })), 'heap');
    assert.equal(reasonOf(m.feed({ heapUsedBytes: 401 * MIB })), 'heap');
    assert.equal(reasonOf(m.feed({ heapUsedBytes: 399 * MIB })), 'accept');
  });

  test('RSS, only when set', () => {
    assert.equal(reasonOf(monitorWith().feed({ rssBytes: 64_000 * MIB })), 'accept');
    const m = monitorWith({ max_rss_mb: 1000 });
    assert.equal(reasonOf(m.feed({ rssBytes: 1001 * MIB })), 'rss');
    assert.equal(reasonOf(m.feed({ rssBytes: 801 * MIB })), 'rss');
    assert.equal(reasonOf(m.feed({ rssBytes: 799 * MIB })), 'accept');
  });

  test('in flight: a hard limit read on each check, without hysteresis', () => {
    const m = monitorWith({ max_in_flight: 5, retry_after_s: 2 });
    m.feed({});
    assert.equal(reasonOf(m.monitor.check(4)), 'accept');
    assert.deepEqual(m.monitor.check(5), { overloaded: true, reason: 'in_flight', retryAfterSeconds: 2 });
    assert.equal(reasonOf(m.monitor.check(4)), 'accept');
  });

  test('a sampled reason is reported before in flight; each keeps its own hysteresis', () => {
    const m = monitorWith({ max_event_loop_delay_ms: 100, max_rss_mb: 1000, max_in_flight: 5 });
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 150, rssBytes: 1100 * MIB }, 10)), 'event_loop_delay');
    // The loop recovers while RSS stays in its band: RSS is reported, it tripped on the earlier reading.
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 10, rssBytes: 900 * MIB }, 10)), 'rss');
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 10, rssBytes: 700 * MIB }, 10)), 'in_flight');
    assert.equal(reasonOf(m.feed({ eventLoopDelayMs: 10, rssBytes: 700 * MIB }, 0)), 'accept');
  });

  test('disabled: never refuses and never reads', () => {
    let reads = 0;
    const sampler: Sampler = { read: () => (reads++, { ...CALM, eventLoopDelayMs: 10_000 }), stop: () => {} };
    const monitor = new OverloadMonitor(overloadSchema.parse({ enabled: false, max_in_flight: 1 }), { sampler, timer: false });
    monitor.sample();
    assert.equal(reasonOf(monitor.check(1_000)), 'accept');
    assert.equal(reads, 0);
  });

  test('the timer takes readings until stop()', async () => {
    let reads = 0;
    let stopped = false;
    const sampler: Sampler = { read: () => (reads++, CALM), stop: () => (stopped = true) };
    const monitor = new OverloadMonitor(overloadSchema.parse({ sample_interval_ms: 20 }), { sampler });
    await new Promise((r) => setTimeout(r, 110));
    monitor.stop();
    const seen = reads;
    assert.ok(seen >= 2, `${seen} readings in 110 ms at 20 ms`);
    assert.ok(stopped);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(reads, seen, 'no reading after stop()');
  });
});

describe('overloadSchema', () => {
  test('defaults, and unknown keys are errors', () => {
    assert.deepEqual(overloadSchema.parse({}), {
      enabled: true, max_event_loop_delay_ms: 200, max_heap_used_ratio: 0.9, max_in_flight: 2000, sample_interval_ms: 100, retry_after_s: 1,
    });
    assert.equal(overloadSchema.safeParse({ max_inflight: 10 }).success, false);
    assert.equal(overloadSchema.safeParse({ max_heap_used_ratio: 1.5 }).success, false);
    assert.equal(overloadSchema.safeParse({ max_in_flight: 2.5 }).success, false);
  });
});
