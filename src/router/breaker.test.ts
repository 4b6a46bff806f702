// The circuit breaker on a fake clock: consecutive failures and failure rate open it, a probe
// after the open period decides, failed probes back off, and rate limits never count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, type BreakerState } from './breaker.js';

const settings = { consecutive_failures: 3, failure_rate: 0.5, window_s: 10, min_calls: 10, open_ms: 1000, max_open_ms: 4000 };

function setup() {
  let now = 1_000_000;
  const changes: BreakerState[] = [];
  const breaker = new CircuitBreaker(settings, () => now, (s) => changes.push(s));
  return { breaker, changes, advance: (ms: number) => (now += ms) };
}

test('opens after consecutive failures, half-opens after open_ms, closes on a successful probe', () => {
  const { breaker, changes, advance } = setup();
  breaker.failure(breaker.begin());
  breaker.failure(breaker.begin());
  assert.equal(breaker.current(), 'closed');
  breaker.failure(breaker.begin());
  assert.equal(breaker.current(), 'open');
  assert.equal(breaker.allows(), false);
  assert.equal(breaker.msUntilProbe(), 1000);
  advance(999);
  assert.equal(breaker.allows(), false);
  advance(1);
  assert.equal(breaker.current(), 'half_open');
  const probe = breaker.begin();
  assert.equal(probe, true, 'the first call after the open period is the probe');
  assert.equal(breaker.allows(), false, 'one probe at a time');
  breaker.success(probe);
  assert.equal(breaker.current(), 'closed');
  assert.deepEqual(changes, ['open', 'half_open', 'closed']);
});

test('a failed probe reopens for twice as long, capped at max_open_ms; success resets the period', () => {
  const { breaker, advance } = setup();
  for (let i = 0; i < 3; i++) breaker.failure(breaker.begin());
  const periods: number[] = [];
  for (let i = 0; i < 4; i++) {
    advance(breaker.msUntilProbe());
    breaker.failure(breaker.begin());
    periods.push(breaker.msUntilProbe());
  }
  assert.deepEqual(periods, [2000, 4000, 4000, 4000]);
  advance(4000);
  breaker.success(breaker.begin());
  for (let i = 0; i < 3; i++) breaker.failure(breaker.begin());
  assert.equal(breaker.msUntilProbe(), 1000, 'back to open_ms after closing');
});

test('opens on failure rate over the window even without a run of consecutive failures', () => {
  const { breaker } = setup();
  // fail, fail, ok repeated: never 3 in a row, but 2/3 of calls fail.
  for (let i = 0; i < 4; i++) {
    breaker.failure(breaker.begin());
    breaker.failure(breaker.begin());
    if (breaker.current() === 'open') break;
    breaker.success(breaker.begin());
  }
  assert.equal(breaker.current(), 'open');
});

test('old failures leave the window', () => {
  const { breaker, advance } = setup();
  for (let i = 0; i < 6; i++) {
    breaker.failure(breaker.begin());
    breaker.success(breaker.begin());
    breaker.success(breaker.begin());
  }
  assert.equal(breaker.current(), 'closed', 'a third failing stays under the 50% rate');
  advance(11_000);
  for (let i = 0; i < 9; i++) breaker.success(breaker.begin());
  breaker.failure(breaker.begin());
  breaker.failure(breaker.begin());
  assert.equal(breaker.current(), 'closed', '2 of 11 in the new window');
});

test('a released probe frees the slot without deciding', () => {
  const { breaker, advance } = setup();
  for (let i = 0; i < 3; i++) breaker.failure(breaker.begin());
  advance(1000);
  const probe = breaker.begin();
  breaker.release(probe);
  assert.equal(breaker.current(), 'half_open');
  assert.equal(breaker.allows(), true);
});
