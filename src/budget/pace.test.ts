// The pace a deployment's 429s teach: cut by a tenth per episode, a step back per quiet 10 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBudgetBackend } from './memory-backend.js';
import { DeploymentBudget } from './deployment-budget.js';
import { Pace } from './pace.js';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('one episode of 429s is one cut; a call made a second after it cuts again, down to a floor', () => {
  const c = clock();
  const pace = new Pace(c.now);
  assert.equal(pace.share(), 1);
  const before = c.now();
  c.advance(5);
  assert.equal(pace.refused(before), true);
  c.advance(300);
  assert.equal(pace.refused(before), false, 'another call of the same burst');
  assert.equal(pace.refused(c.now()), false, 'a call while the upstream still drains the old pace');
  assert.equal(pace.share(), 0.9);
  c.advance(700);
  assert.equal(pace.refused(c.now()), true, 'a call made at the new pace, once that had time to show: still too fast');
  assert.equal(pace.share(), 0.81);
  for (let i = 0; i < 40; i++) {
    c.advance(1000);
    pace.refused();
  }
  assert.equal(pace.share(), 0.1, 'never stops calling: the Retry-After holds do the rest');
});

test('quiet time gives the pace back a step per 10 s, up to the whole budget', () => {
  const c = clock();
  const pace = new Pace(c.now);
  pace.refused();
  c.advance(9_999);
  assert.equal(pace.share(), 0.9);
  c.advance(1);
  assert.equal(pace.share(), 0.95);
  c.advance(5_000);
  assert.equal(pace.share(), 0.95, 'half way to the next step');
  c.advance(5_000);
  assert.equal(pace.share(), 1);
  c.advance(60_000);
  assert.equal(pace.share(), 1);
});

test('a configured budget slows after an upstream 429 and recovers; an unconfigured one only holds', async () => {
  const c = clock();
  const budget = new DeploymentBudget('d', { rpm: 6000 }, new MemoryBudgetBackend(c.now), { now: c.now });
  assert.equal(budget.refill.requests, 6000 / 60_000);
  budget.hold(100);
  assert.ok(Math.abs(budget.refill.requests * 60_000 - 5400) < 1e-6, 'a tenth less: 5,400 rpm');
  c.advance(100);
  // 5,400 rpm: 11.1 ms a call, 900 ms at once: 81 calls.
  let burst = 0;
  while ((await budget.tryTake(0)).ok) burst++;
  assert.equal(burst, 81);
  c.advance(10_000);
  await budget.tryTake(0);
  assert.ok(Math.abs(budget.refill.requests * 60_000 - 5700) < 1e-6, 'a step back after 10 quiet seconds: 5,700 rpm');

  const open = new DeploymentBudget('e', {}, new MemoryBudgetBackend(c.now), { now: c.now });
  open.hold(100);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(await open.tryTake(0), { ok: false, readyInMs: 100, reason: 'hold' }, 'held for the Retry-After');
  assert.deepEqual(open.refill, { requests: Infinity, tokens: Infinity }, 'and not paced');
  c.advance(100);
  assert.equal((await open.tryTake(0)).ok, true);
});
