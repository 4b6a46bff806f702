// Redis out of reach: refused connections (nothing listening, or a Redis that died) and a Redis
// that hangs (a frozen proxy). Decisions keep coming within 1 s, from memory at limit / nodes
// (never unlimited), and come from Redis again within 5 s of its return.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropLimitKeys, freshIdentity, limitsTestPrefix, silentLogger } from '../../test/support/limits-backends.js';
import { deadPort, redisProxy } from '../../test/support/redis-proxy.js';
import { dividedLimits, FallbackLimiter } from './fallback.js';
import { MemoryLimiter } from './memory-store.js';
import { openRateLimiter } from './open-limiter.js';
import type { BackendName, Decision, LimitRequest, RateLimiter, TierLimits } from './types.js';

const REDIS_PORT = Number(new URL(process.env.FLOODGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379);

async function open(redisUrl: string, nodes: number, prefix = limitsTestPrefix()): Promise<FallbackLimiter> {
  const limiter = await openRateLimiter({
    limits: { backend: 'redis', nodes, redis_timeout_ms: 100 }, redisUrl, logger: silentLogger, redis: { prefix }, startupWaitMs: 300,
  });
  assert.ok(limiter instanceof FallbackLimiter);
  return limiter;
}

/** Decides and times it. */
async function timed(limiter: RateLimiter, request: LimitRequest): Promise<{ decision: Decision; ms: number }> {
  const started = performance.now();
  const decision = await limiter.decide(request);
  return { decision, ms: performance.now() - started };
}

/** Decides every 100 ms until one comes from `backend`; resolves with the time that took. */
async function until(limiter: RateLimiter, backend: BackendName, withinMs: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < withinMs) {
    const { decision } = await timed(limiter, { identity: freshIdentity(), limits: { rpm: 10 }, estimatedTokens: 0 });
    if (decision.backend === backend) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no decision from ${backend} within ${withinMs} ms`);
}

const admittedCount = async (limiter: RateLimiter, identity: string, limits: TierLimits, attempts: number) => {
  let count = 0;
  for (let i = 0; i < attempts; i++) if ((await limiter.decide({ identity, limits, estimatedTokens: 10 })).allowed) count++;
  return count;
};

test('limit / nodes rounds down but never below 1, so no limit becomes unlimited', () => {
  assert.deepEqual(dividedLimits({ rpm: 20, tpm: 40_000, concurrency: 4, daily_requests: 1_000, daily_tokens: 1_000_000 }, 3),
    { rpm: 6, tpm: 13_333, concurrency: 1, daily_requests: 333, daily_tokens: 333_333 });
  assert.deepEqual(dividedLimits({ rpm: 2, concurrency: 1 }, 5), { rpm: 1, tpm: undefined, concurrency: 1, daily_requests: undefined, daily_tokens: undefined });
});

test('backend memory: a per-process limiter, and no Redis is needed', async () => {
  const limiter = await openRateLimiter({ limits: { backend: 'memory', nodes: 3, redis_timeout_ms: 100 }, logger: silentLogger });
  assert.ok(limiter instanceof MemoryLimiter);
  assert.equal(await admittedCount(limiter, freshIdentity(), { rpm: 3 }, 5), 3); // nodes divide only a lost Redis
  await limiter.close();
});

test('nothing listening: decisions come from memory within 1 s, at limit / nodes, and anonymous callers stay limited', async () => {
  const limiter = await open(`redis://127.0.0.1:${await deadPort()}`, 3);
  try {
    const { decision, ms } = await timed(limiter, { identity: freshIdentity(), limits: { rpm: 20 }, estimatedTokens: 0 });
    assert.ok(ms < 1_000, `${ms} ms`);
    assert.equal(decision.backend, 'memory');
    assert.equal(limiter.mode, 'memory');
    assert.equal(await admittedCount(limiter, freshIdentity(), { rpm: 20 }, 30), 6);
    assert.equal(await admittedCount(limiter, freshIdentity('anonymous'), { rpm: 2, tpm: 30, daily_requests: 2 }, 30), 1);
    await assert.rejects(limiter.decide({ identity: freshIdentity(), limits: {}, estimatedTokens: Number.NaN }), RangeError);
    const refusal = await limiter.decide({ identity: freshIdentity(), limits: { tpm: 40_000 }, estimatedTokens: 20_000 });
    // Larger than this node's share but not than the whole limit: it will fit once Redis is back,
    // so it is told to wait, not refused for good (a 400 that no client retries).
    assert.ok(!refusal.allowed && refusal.retryAfterMs !== null && refusal.retryAfterMs > 0, 'larger than the per-node share only: a wait');
    const never = await limiter.decide({ identity: freshIdentity(), limits: { tpm: 40_000 }, estimatedTokens: 50_000 });
    assert.equal(never.allowed ? undefined : never.retryAfterMs, null, 'larger than the whole limit: refused for good');
  } finally {
    await limiter.close();
  }
});

test('redis dies and returns: memory within 1 s, redis again within 5 s, and a release lost meanwhile is retried', async () => {
  const proxy = await redisProxy(REDIS_PORT);
  const prefix = limitsTestPrefix();
  const limiter = await open(proxy.url, 2, prefix);
  const modes: BackendName[] = [];
  try {
    assert.equal(limiter.mode, 'redis');
    await assert.rejects(limiter.decide({ identity: freshIdentity(), limits: {}, estimatedTokens: -1 }), RangeError);
    assert.equal(limiter.mode, 'redis', 'a caller\'s bug is not a Redis failure');
    const id = freshIdentity();
    const held = await limiter.decide({ identity: id, limits: { concurrency: 1 }, estimatedTokens: 0 });
    assert.equal(held.backend, 'redis');
    assert.ok(held.allowed);

    await proxy.stop();
    const { decision, ms } = await timed(limiter, { identity: freshIdentity(), limits: { rpm: 10 }, estimatedTokens: 0 });
    assert.ok(ms < 1_000, `${ms} ms`);
    assert.equal(decision.backend, 'memory');
    modes.push(limiter.mode);
    await held.admission.release(); // Redis is gone: kept to retry

    await proxy.start();
    await until(limiter, 'redis', 5_000); // throws past 5 s
    modes.push(limiter.mode);
    assert.deepEqual(modes, ['memory', 'redis']);
    const again = await limiter.decide({ identity: id, limits: { concurrency: 1 }, estimatedTokens: 0 });
    assert.equal(again.backend, 'redis');
    assert.ok(again.allowed, 'the slot released during the outage is free (not held until its lease ends)');
  } finally {
    await limiter.close();
    await proxy.stop();
    await dropLimitKeys(prefix);
  }
});

test('redis hangs: no decision waits past redis_timeout_ms, the rest go straight to memory, and redis is used again within 5 s of thawing', async () => {
  const proxy = await redisProxy(REDIS_PORT);
  const prefix = limitsTestPrefix();
  const limiter = await open(proxy.url, 4, prefix);
  try {
    assert.equal((await limiter.decide({ identity: freshIdentity(), limits: { rpm: 10 }, estimatedTokens: 0 })).backend, 'redis');
    proxy.freeze();
    const stalled = await Promise.all(Array.from({ length: 20 }, () => timed(limiter, { identity: freshIdentity(), limits: { rpm: 10 }, estimatedTokens: 0 })));
    for (const { decision, ms } of stalled) {
      assert.equal(decision.backend, 'memory');
      assert.ok(ms < 400, `${ms} ms for a decision while redis hangs (timeout 100 ms)`);
    }
    const { decision, ms } = await timed(limiter, { identity: freshIdentity(), limits: { rpm: 10 }, estimatedTokens: 0 });
    assert.equal(decision.backend, 'memory');
    assert.ok(ms < 20, `${ms} ms once in memory mode`);
    assert.equal(await admittedCount(limiter, freshIdentity(), { rpm: 20, concurrency: 64 }, 10), 5);

    proxy.thaw();
    await until(limiter, 'redis', 5_000); // throws past 5 s
    assert.equal(limiter.mode, 'redis');
  } finally {
    await limiter.close();
    await proxy.close();
    await dropLimitKeys(prefix);
  }
});
