// Decision latency of the client rate limiter: a tight loop in memory, then memory and Redis paced
// at 2,000 decisions/s for ~5 s each (1,000 identities, every limit enforced, each admission
// released and reconciled outside the timing). Not a test: figures depend on the machine.
//   node --import tsx bench/limits-decisions.ts   (REDIS_URL, default redis://127.0.0.1:6379)
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { dropRedisKeys } from '../test/support/redis-keys.js';
import { pino } from 'pino';
import { MemoryLimiter } from '../src/limits/memory-store.js';
import { openRateLimiter } from '../src/limits/open-limiter.js';
import type { Decision, LimitRequest, RateLimiter } from '../src/limits/types.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RATE = 2_000;
const SECONDS = 5;
const LIMITS = { rpm: 600, tpm: 2_000_000, concurrency: 64, daily_requests: 1_000_000, daily_tokens: 1_000_000_000 };
const request = (i: number): LimitRequest => ({ identity: `key:bench-${i % 1_000}`, limits: LIMITS, estimatedTokens: 700 });

function percentiles(samplesNs: number[]): string {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! / 1_000;
  return `p50 ${at(0.5).toFixed(1)} µs, p99 ${at(0.99).toFixed(1)} µs, max ${at(1).toFixed(0)} µs (n=${sorted.length})`;
}

function settle(decision: Decision): Promise<void> {
  if (!decision.allowed) return Promise.resolve();
  return decision.admission.reconcile(500).then(() => decision.admission.release());
}

async function tightLoop(): Promise<void> {
  const limiter = new MemoryLimiter();
  const samples: number[] = [];
  for (let i = 0; i < 300_000; i++) {
    const started = process.hrtime.bigint();
    const decision = await limiter.decide(request(i));
    const took = Number(process.hrtime.bigint() - started);
    if (i >= 50_000) samples.push(took); // after warm-up
    void settle(decision);
  }
  console.log(`memory, tight loop (await decide):   ${percentiles(samples)}`);
}

/**
 * Issues RATE decisions a second for SECONDS, each timed from call to answer. `sequential`: each
 * decision is awaited before the next is issued, as a request (its own macrotask in the gateway)
 * sees it; otherwise the decisions due in one timer tick are issued together, and a fast answer's
 * timing also includes issuing the rest of the tick (fine for Redis, whose round trip dominates,
 * but several times the memory limiter's own cost).
 */
async function paced(name: string, limiter: RateLimiter, sequential = false): Promise<void> {
  const samples: number[] = [];
  const settling: Array<Promise<void>> = [];
  const backends = new Map<string, number>();
  const total = RATE * SECONDS;
  let issued = 0;
  const started = performance.now();
  const record = (begin: bigint, decision: Decision): Promise<void> => {
    samples.push(Number(process.hrtime.bigint() - begin));
    backends.set(decision.backend, (backends.get(decision.backend) ?? 0) + 1);
    return settle(decision);
  };
  let busy = false;
  await new Promise<void>((resolve) => {
    const tick = setInterval(async () => {
      if (busy) return;
      busy = true;
      const due = Math.min(total, Math.floor(((performance.now() - started) * RATE) / 1_000));
      for (; issued < due; issued++) {
        const begin = process.hrtime.bigint();
        const n = issued;
        if (sequential) settling.push(record(begin, await limiter.decide(request(n))));
        else settling.push(limiter.decide(request(n)).then((decision) => record(begin, decision)));
      }
      busy = false;
      if (issued >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await Promise.all(settling);
  const seconds = (performance.now() - started) / 1_000;
  console.log(`${name}, paced ${RATE}/s: ${percentiles(samples)}; ${(samples.length / seconds).toFixed(0)}/s achieved; decided by ${JSON.stringify(Object.fromEntries(backends))}`);
}

await tightLoop();
await paced('memory', new MemoryLimiter());
await paced('memory, each awaited', new MemoryLimiter(), true);
const prefix = `floodgate:bench:limits:${randomBytes(4).toString('hex')}`;
const redisLimiter = await openRateLimiter({
  limits: { backend: 'redis', nodes: 1, redis_timeout_ms: 100 }, redisUrl: REDIS_URL, logger: pino({ level: 'warn' }), redis: { prefix },
});
// The floor on this machine: a PING round trip paced the same way (shared CPUs show up here).
const ping = new Redis(REDIS_URL);
const pingOnly = { decide: () => ping.ping().then((): Decision => ({ allowed: false, limit: 'requests', retryAfterMs: 0, budgets: {}, backend: 'redis' })), close: async () => {} };
try {
  await paced('redis (warm-up)', redisLimiter);
  await paced('redis PING alone (floor)', pingOnly);
  await paced('redis', redisLimiter);
} finally {
  await redisLimiter.close();
  await ping.quit();
  await dropRedisKeys(prefix, REDIS_URL);
}
