// One of several processes racing on the same Redis keys: connects, says "ready", waits for a
// "go" line on stdin so every process starts at once, then fires `callers` concurrent decisions
// per scenario and prints how many were admitted, as one JSON line.
// argv[2]: JSON { redisUrl, prefix, callers, scenarios: [{ identity, limits, estimatedTokens }] }
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { connectLimitsRedis, whenReady } from '../../src/limits/redis-connection.js';
import { RedisLimiter } from '../../src/limits/redis-store.js';
import type { LimitRequest } from '../../src/limits/types.js';

interface HammerInput {
  redisUrl: string;
  prefix: string;
  callers: number;
  scenarios: LimitRequest[];
}

const input = JSON.parse(process.argv[2] ?? '{}') as HammerInput;
const redis = connectLimitsRedis(input.redisUrl, { commandTimeoutMs: 5_000 }, pino({ level: 'silent' }));
const limiter = new RedisLimiter({ redis, prefix: input.prefix });
if (!(await whenReady(redis, 5_000))) throw new Error('redis not ready');
// A first call loads the script, so the race is not also a race to SCRIPT LOAD.
await limiter.decide({ identity: `${input.prefix}:warm-up`, limits: {}, estimatedTokens: 0 });
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
const admitted = await Promise.all(input.scenarios.map(async (scenario) => {
  const decisions = await Promise.all(Array.from({ length: input.callers }, () => limiter.decide(scenario)));
  return decisions.filter((d) => d.allowed).length;
}));
process.stdout.write(`${JSON.stringify({ admitted })}\n`);
lines.close();
await limiter.close();
