// The Redis backend's own guarantees, on the machine's Redis: exact admissions when four
// processes race on one identity, concurrency leases that expire when a node dies holding them,
// and keys that carry TTLs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { dropLimitKeys, freshIdentity, limitsTestPrefix, REDIS_URL, redisLimiter } from '../../test/support/limits-backends.js';
import type { LimitRequest, TierLimits } from './types.js';

const HAMMER = fileURLToPath(new URL('../../test/support/limits-hammer-child.ts', import.meta.url));

let redis: Redis;
before(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});
after(() => redis.quit());

/** Starts a hammer process; resolves once it is ready, with a function that fires it and reads its counts. */
async function hammer(prefix: string, scenarios: LimitRequest[], callers: number): Promise<() => Promise<number[]>> {
  const child = spawn(process.execPath, ['--import', 'tsx', HAMMER, JSON.stringify({ redisUrl: REDIS_URL, prefix, callers, scenarios })], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`hammer exited with ${code}`)));
  });
  assert.equal(await next(), 'ready');
  return async () => {
    const result = next();
    child.stdin!.write('go\n');
    return (JSON.parse(await result) as { admitted: number[] }).admitted;
  };
}

test('4 processes x 50 concurrent callers on one identity: exactly the limit is admitted, for every kind of limit', async () => {
  const prefix = limitsTestPrefix();
  try {
    // Each limit alone, at 37; rpm and tpm refill one unit only every ~1.6 s, far longer than the race.
    const cases: TierLimits[] = [{ daily_requests: 37 }, { rpm: 37 }, { tpm: 3_700 }, { concurrency: 37 }, { daily_tokens: 3_700 }];
    const scenarios = cases.map((limits) => ({ identity: freshIdentity(), limits, estimatedTokens: 100 }));
    const processes = await Promise.all(Array.from({ length: 4 }, () => hammer(prefix, scenarios, 50)));
    const started = Date.now();
    const counts = await Promise.all(processes.map((fire) => fire()));
    assert.ok(Date.now() - started < 1_500, 'the race ended before any refill');
    const totals = cases.map((_, i) => counts.reduce((sum, perProcess) => sum + perProcess[i]!, 0));
    assert.deepEqual(totals, cases.map(() => 37), `admitted per case ${JSON.stringify(cases)}: ${totals.join(', ')}`);
  } finally {
    await dropLimitKeys(prefix);
  }
});

test('a concurrency slot is a lease: a node that dies holding it frees it when the lease ends', async () => {
  const { limiter, close } = await redisLimiter({ leaseMs: 300 });
  try {
    const id = freshIdentity();
    const limits = { concurrency: 1 };
    assert.equal((await limiter.decide({ identity: id, limits, estimatedTokens: 0 })).allowed, true); // never released
    assert.equal((await limiter.decide({ identity: id, limits, estimatedTokens: 0 })).allowed, false);
    await sleep(350);
    assert.equal((await limiter.decide({ identity: id, limits, estimatedTokens: 0 })).allowed, true);
  } finally {
    await close();
  }
});

test('every key carries a TTL: until its budgets are full again, or until midnight UTC for day counts', async () => {
  const { limiter, close } = await redisLimiter();
  try {
    const [minute, daily] = [freshIdentity(), freshIdentity()];
    const decision = await limiter.decide({ identity: minute, limits: { rpm: 10, tpm: 1_000, concurrency: 2 }, estimatedTokens: 100 });
    assert.equal(decision.allowed, true);
    const state = limiter.stateKey(minute);
    const stateTtl = await redis.pttl(state);
    assert.ok(stateTtl > 5_500 && stateTtl <= 6_001, `state ttl ${stateTtl}`); // rpm 10: full again in 6 s
    const leaseTtl = await redis.pttl(`${state}:c`);
    assert.ok(leaseTtl > 600_000, `lease ttl ${leaseTtl}`);
    if (decision.allowed) await decision.admission.release();

    await limiter.decide({ identity: daily, limits: { daily_requests: 5 }, estimatedTokens: 0 });
    const dailyTtl = await redis.pttl(limiter.stateKey(daily));
    const untilMidnight = 86_400_000 - (Date.now() % 86_400_000);
    assert.ok(Math.abs(dailyTtl - untilMidnight) < 1_000, `daily ttl ${dailyTtl}, ${untilMidnight} to midnight`);

    const refusedOnly = freshIdentity();
    await limiter.decide({ identity: refusedOnly, limits: { tpm: 10 }, estimatedTokens: 11 });
    assert.equal(await redis.exists(limiter.stateKey(refusedOnly)), 0, 'a refusal writes nothing');
  } finally {
    await close();
  }
});
