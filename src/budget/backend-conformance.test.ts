// One suite, every budget backend: this process's memory and a real Redis (server time), so a
// node in scale-out mode spends exactly as the embedded gateway does. Times are real, so waits are
// checked within a tolerance; the exact arithmetic is pinned on a fake clock in
// memory-backend.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BudgetBackend } from './backend.js';
import { DeploymentBudget, type DeploymentLimits } from './deployment-budget.js';
import { MemoryBudgetBackend } from './memory-backend.js';
import { RedisBudgetBackend } from './redis-backend.js';

const REDIS_URL = process.env.FLOODGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settled = () => sleep(20);

function near(actual: number, expected: number, slack = 60): void {
  assert.ok(actual <= expected && actual >= expected - slack, `${actual} ms, expected about ${expected}`);
}

function conformance(name: string, open: () => { backend: BudgetBackend; errors?: unknown[] }): void {
  describe(`budget backend: ${name}`, () => {
    let backend: BudgetBackend;
    let errors: unknown[] = [];
    let n = 0;
    before(() => {
      ({ backend, errors = [] } = open());
    });
    after(() => assert.deepEqual(errors, [], 'no backend errors'));
    const budget = (limits: DeploymentLimits) => new DeploymentBudget(`d${n++}`, limits, backend);

    test('requests are spaced by rpm, and the refusal says how long until the next', async () => {
      const b = budget({ rpm: 300 }); // one every 200 ms, a burst of 900 ms: 4 at once, the 5th 100 ms later
      for (let i = 0; i < 4; i++) assert.equal((await b.tryTake(0)).ok, true);
      const refused = await b.tryTake(0);
      assert.equal(!refused.ok && refused.reason, 'requests');
      near(!refused.ok ? refused.readyInMs : -1, 100);
      await sleep(!refused.ok ? refused.readyInMs : 0);
      assert.equal((await b.tryTake(0)).ok, true);
    });

    test('tokens are spaced by tpm, an oversized request runs into debt, and a refund pays it back', async () => {
      const b = budget({ tpm: 60_000 }); // a token a ms, a burst of 900
      const big = await b.tryTake(3000);
      assert.ok(big.ok, 'oversized, from an empty bucket');
      const refused = await b.tryTake(100);
      assert.equal(!refused.ok && refused.reason, 'tokens');
      near(!refused.ok ? refused.readyInMs : -1, 2200);
      big.grant.recordUsage(100);
      big.grant.release();
      await settled();
      assert.equal((await b.tryTake(100)).ok, true, 'the unused 2,900 tokens came back');
    });

    test('max_concurrency counts calls in flight across takes; a release frees a slot', async () => {
      const b = budget({ max_concurrency: 2 });
      const first = await b.tryTake(0);
      assert.ok(first.ok);
      assert.equal((await b.tryTake(0)).ok, true);
      const refused = await b.tryTake(0);
      assert.equal(!refused.ok && refused.reason, 'concurrency');
      first.grant.release();
      await settled();
      assert.equal((await b.tryTake(0)).ok, true);
    });

    test('a refusal charges nothing', async () => {
      const b = budget({ rpm: 60, max_concurrency: 1 });
      const first = await b.tryTake(0);
      assert.ok(first.ok);
      for (let i = 0; i < 5; i++) assert.equal((await b.tryTake(0)).ok, false);
      first.grant.release();
      await settled();
      const refused = await b.tryTake(0);
      near(!refused.ok ? refused.readyInMs : -1, 1000, 150);
    });

    test('a hold (an upstream 429\'s Retry-After) keeps every call out until it passes', async () => {
      const b = budget({});
      b.hold(300);
      await settled();
      const refused = await b.tryTake(0);
      assert.equal(!refused.ok && refused.reason, 'hold');
      near(!refused.ok ? refused.readyInMs : -1, 300, 120);
    });

    test('observe: the upstream\'s report tightens, never loosens the configured rate', async () => {
      const learned = budget({});
      learned.observe({ 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '4.5s' });
      await settled();
      assert.equal((await learned.tryTake(0)).ok, true, 'the one left');
      const refused = await learned.tryTake(0);
      assert.equal(!refused.ok && refused.reason, 'requests');
      near(!refused.ok ? refused.readyInMs : -1, 500, 80);

      const configured = budget({ rpm: 60 });
      configured.observe({ 'x-ratelimit-limit-requests': '10000', 'x-ratelimit-remaining-requests': '9999', 'x-ratelimit-reset-requests': '6ms' });
      await settled();
      assert.equal((await configured.tryTake(0)).ok, true);
      assert.equal((await configured.tryTake(0)).ok, false);

      const empty = budget({});
      empty.observe({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' });
      await settled();
      const held = await empty.tryTake(0);
      assert.equal(!held.ok && held.reason, 'hold', 'no limit to infer a rate from: wait out the reset');
    });

    test('without limits there is always budget', async () => {
      const b = budget({});
      for (let i = 0; i < 50; i++) assert.equal((await b.tryTake(1_000_000)).ok, true);
    });
  });
}

conformance('memory', () => ({ backend: new MemoryBudgetBackend() }));

const prefix = `floodgate:test:budget:${randomBytes(4).toString('hex')}`;
let redis: Redis;
before(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});
after(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});
conformance('redis', () => {
  const errors: unknown[] = [];
  return { backend: new RedisBudgetBackend({ redis, prefix, onError: (e) => errors.push(e) }), errors };
});

describe('redis budget: shared and failing safe', () => {
  test('two nodes spend one budget', async () => {
    const a = new DeploymentBudget('shared', { rpm: 240 }, new RedisBudgetBackend({ redis, prefix }));
    const b = new DeploymentBudget('shared', { rpm: 240 }, new RedisBudgetBackend({ redis, prefix }));
    assert.equal((await a.tryTake(0)).ok, true);
    assert.equal((await a.tryTake(0)).ok, true);
    assert.equal((await b.tryTake(0)).ok, true, 'a burst of three (900 ms at one per 250 ms)');
    assert.equal((await a.tryTake(0)).ok, false);
    assert.equal((await b.tryTake(0)).ok, false);
  });

  test('while Redis is unreachable, each node spends its share locally and nothing waits on Redis', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => {});
    const errors: unknown[] = [];
    const backend = new RedisBudgetBackend({ redis: dead, prefix, nodes: 2, onError: (e) => errors.push(e) });
    const b = new DeploymentBudget('down', { rpm: 120 }, backend); // 60 a minute for this node: one a second
    const started = Date.now();
    assert.equal((await b.tryTake(0)).ok, true);
    const refused = await b.tryTake(0);
    assert.ok(Date.now() - started < 500, 'decided locally, at once');
    near(!refused.ok ? refused.readyInMs : -1, 1000, 50);
    assert.ok(errors.length >= 2);
    dead.disconnect();
  });
});
