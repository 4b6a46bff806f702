// Budget arithmetic on a fake clock: spacing, bursts, oversized requests, refunds, what an
// upstream's report and Retry-After do. The same behaviour against Redis (server time) is pinned
// by backend-conformance.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { perMinute } from './gcra.js';
import { MemoryBudgetBackend } from './memory-backend.js';
import { DeploymentBudget } from './deployment-budget.js';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('rpm 60 lets one call out per second, at once when idle, and says when the next one may go', async () => {
  const c = clock();
  const budget = new DeploymentBudget('d', { rpm: 60 }, new MemoryBudgetBackend(c.now));
  assert.equal((await budget.tryTake(0)).ok, true);
  const refused = await budget.tryTake(0);
  assert.deepEqual(refused, { ok: false, readyInMs: 1000, reason: 'requests' });
  c.advance(999);
  assert.equal((await budget.tryTake(0)).ok, false);
  c.advance(1);
  assert.equal((await budget.tryTake(0)).ok, true);
});

test('a bigger rpm allows a burst of nearly one second\'s worth, then spaces calls evenly', async () => {
  const c = clock();
  const budget = new DeploymentBudget('d', { rpm: 600 }, new MemoryBudgetBackend(c.now));
  // 900 ms of the rate: a second's worth, less the slack kept for calls that arrive bunched.
  for (let i = 0; i < 9; i++) assert.equal((await budget.tryTake(0)).ok, true, `call ${i} of the burst`);
  const refused = await budget.tryTake(0);
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.readyInMs, 100);
  // Over a minute from a full bucket: 600 + one burst, never more.
  let taken = 0;
  for (let t = 0; t < 60_000; t += 10) {
    c.advance(10);
    while ((await budget.tryTake(0)).ok) taken++;
  }
  assert.ok(taken >= 599 && taken <= 600, `calls in the next minute: ${taken}`);
});

test('tpm: a request bigger than the burst goes out once the bucket is empty and its debt holds back the next', async () => {
  const c = clock();
  // 6,000 tpm: 100 tokens a second, a burst of 90.
  const budget = new DeploymentBudget('d', { tpm: 6000 }, new MemoryBudgetBackend(c.now));
  assert.equal((await budget.tryTake(400)).ok, true, 'oversized, but the bucket was empty');
  const next = await budget.tryTake(50);
  assert.deepEqual(next, { ok: false, readyInMs: 3600, reason: 'tokens' }, '4 s of debt, less the 0.9 s burst, plus its own 0.5 s');
  c.advance(3600);
  assert.equal((await budget.tryTake(50)).ok, true);
});

test('the real usage settles the estimate: a refund lets the next call out sooner, an overrun holds it back', async () => {
  const c = clock();
  const budget = new DeploymentBudget('d', { tpm: 6000 }, new MemoryBudgetBackend(c.now));
  const first = await budget.tryTake(90);
  assert.ok(first.ok);
  assert.equal((await budget.tryTake(90)).ok, false);
  first.grant.recordUsage(10);
  first.grant.release();
  await new Promise((r) => setImmediate(r));
  assert.equal((await budget.tryTake(80)).ok, true, '80 tokens refunded');

  const c2 = clock();
  const strict = new DeploymentBudget('e', { tpm: 6000 }, new MemoryBudgetBackend(c2.now));
  const small = await strict.tryTake(10);
  assert.ok(small.ok);
  small.grant.recordUsage(300);
  small.grant.release();
  small.grant.release(); // idempotent: charged once
  await new Promise((r) => setImmediate(r));
  const after = await strict.tryTake(10);
  assert.deepEqual(after, { ok: false, readyInMs: 2200, reason: 'tokens' }, '3 s of use, less the 0.9 s burst, plus its own 0.1 s');
});

test('a refund never buys more than a full bucket', async () => {
  const c = clock();
  const budget = new DeploymentBudget('d', { tpm: 6000 }, new MemoryBudgetBackend(c.now));
  const grant = await budget.tryTake(90);
  assert.ok(grant.ok);
  c.advance(60_000);
  grant.grant.recordUsage(0);
  grant.grant.release();
  await new Promise((r) => setImmediate(r));
  assert.equal((await budget.tryTake(90)).ok, true);
  assert.equal((await budget.tryTake(10)).ok, false, 'one burst, not one plus the refund');
});

test('max_concurrency caps calls in flight; ending one frees its slot and says so', async () => {
  const c = clock();
  let freed = 0;
  const budget = new DeploymentBudget('d', { max_concurrency: 2 }, new MemoryBudgetBackend(c.now), { onFree: () => freed++ });
  const a = await budget.tryTake(0);
  const b = await budget.tryTake(0);
  assert.ok(a.ok && b.ok);
  const refused = await budget.tryTake(0);
  assert.equal(!refused.ok && refused.reason, 'concurrency');
  a.grant.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(freed, 1);
  assert.equal((await budget.tryTake(0)).ok, true);
});

test('observe: an upstream report tightens the budget, and a generous one does not loosen the configured rate', async () => {
  const c = clock();
  const backend = new MemoryBudgetBackend(c.now);
  const budget = new DeploymentBudget('d', {}, backend);
  // 2 requests left of 10, all back in 8 s: one more every second after those two.
  await backend.observe('d', { requests: { remaining: 2, resetMs: 8000, limit: 10 } });
  assert.equal((await budget.tryTake(0)).ok, true);
  assert.equal((await budget.tryTake(0)).ok, true);
  assert.deepEqual(await budget.tryTake(0), { ok: false, readyInMs: 1000, reason: 'requests' });

  const configured = new DeploymentBudget('e', { rpm: 60 }, backend);
  await backend.observe('e', { requests: { remaining: 9000, resetMs: 1000, limit: 10_000 } });
  assert.equal((await configured.tryTake(0)).ok, true);
  assert.equal((await configured.tryTake(0)).ok, false, 'the configured one a second still applies');
});

test('a configured rpm above the limit the upstream reports is paced at the upstream\'s; a higher report does not loosen it', async () => {
  const c = clock();
  const budget = new DeploymentBudget('d', { rpm: 6000, tpm: 6_000_000 }, new MemoryBudgetBackend(c.now));
  // Every answer carries the limits; plenty remains of the minute, so nothing is "low".
  const answer = (requests: number) => ({
    'x-ratelimit-limit-requests': String(requests), 'x-ratelimit-remaining-requests': String(requests - 1), 'x-ratelimit-reset-requests': '10ms',
    'x-ratelimit-limit-tokens': '60000', 'x-ratelimit-remaining-tokens': '59000', 'x-ratelimit-reset-tokens': '1s',
  });
  budget.observe(answer(600));
  assert.deepEqual(budget.refill, { requests: 600 / 60_000, tokens: 60_000 / 60_000 }, 'paced at the reported 600 rpm and 60,000 tpm');
  // 600 rpm: one every 100 ms, 900 ms at once: nine calls, then the tenth 100 ms later.
  for (let i = 0; i < 9; i++) assert.equal((await budget.tryTake(0)).ok, true);
  assert.deepEqual(await budget.tryTake(0), { ok: false, readyInMs: 100, reason: 'requests' });
  budget.observe(answer(100_000));
  assert.equal(budget.refill.requests, 6000 / 60_000, 'back to the configured 6,000, never above it');
  // Deployments left unlimited by their operator stay so.
  const open = new DeploymentBudget('e', {}, new MemoryBudgetBackend(c.now));
  open.observe(answer(600));
  assert.deepEqual(open.refill, { requests: Infinity, tokens: Infinity });
});

test('observe reads real headers: x-ratelimit-* and, without a limit, an empty budget holds until its reset', async () => {
  const c = clock();
  const backend = new MemoryBudgetBackend(c.now);
  const budget = new DeploymentBudget('d', {}, backend);
  budget.observe({ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1.5s' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(await budget.tryTake(10), { ok: false, readyInMs: 1500, reason: 'hold' });
  c.advance(1500);
  assert.equal((await budget.tryTake(10)).ok, true);
});

test('a 429\'s Retry-After holds every call until it has passed', async () => {
  const c = clock();
  const budget = new DeploymentBudget('d', {}, new MemoryBudgetBackend(c.now));
  budget.hold(2500);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(await budget.tryTake(0), { ok: false, readyInMs: 2500, reason: 'hold' });
  c.advance(2500);
  assert.equal((await budget.tryTake(0)).ok, true);
});

test('a deployment without limits always has budget', async () => {
  const budget = new DeploymentBudget('d', {}, new MemoryBudgetBackend());
  for (let i = 0; i < 1000; i++) assert.equal((await budget.tryTake(100_000)).ok, true);
  assert.equal(budget.countsTokens, false);
  assert.deepEqual(budget.refill, { requests: Infinity, tokens: Infinity });
});

test('perMinute: spacing and burst', () => {
  assert.deepEqual(perMinute(60), { inc: 1000, cap: 1000 });
  assert.deepEqual(perMinute(600), { inc: 100, cap: 900 }, 'a second\'s worth, less 100 ms of slack for calls that arrive bunched');
  assert.deepEqual(perMinute(30), { inc: 2000, cap: 2000 }, 'at least one call fits');
});
