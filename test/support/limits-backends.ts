// The rate limiter backends the conformance suite runs against: memory on a fake clock (time
// moves only when a test says, so every check is exact to the ms) and Redis for real (time is the
// server's and passes while the test runs, so checks allow `toleranceMs`). Each Redis limiter
// gets a key prefix of its own, deleted afterwards with every key under it.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { MemoryLimiter, type MemoryLimiterOptions } from '../../src/limits/memory-store.js';
import { connectLimitsRedis, whenReady } from '../../src/limits/redis-connection.js';
import { RedisLimiter, type RedisLimiterOptions } from '../../src/limits/redis-store.js';
import type { RateLimiter } from '../../src/limits/types.js';

import { dropRedisKeys, REDIS_TEST_URL as REDIS_URL } from './redis-keys.js';

export { REDIS_TEST_URL as REDIS_URL } from './redis-keys.js';
/** Deletes every key under `prefix`. */
export const dropLimitKeys = dropRedisKeys;
export const silentLogger = pino({ level: 'silent' });

/** A key prefix no other test run uses. */
export const limitsTestPrefix = (): string => `floodgate:test:limits:${process.pid}:${randomBytes(4).toString('hex')}`;


/** A clock that moves only when told. */
export function fakeClock(start: number): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => void (time += ms), set: (ms) => void (time = ms) };
}

/** A Redis limiter on a fresh prefix, connected the way the gateway connects, once ready. */
export async function redisLimiter(options: Omit<RedisLimiterOptions, 'redis'> = {}, commandTimeoutMs = 1_000): Promise<{ limiter: RedisLimiter; prefix: string; close(): Promise<void> }> {
  const prefix = options.prefix ?? limitsTestPrefix();
  const redis = connectLimitsRedis(REDIS_URL, { commandTimeoutMs }, silentLogger);
  const limiter = new RedisLimiter({ ...options, prefix, redis });
  const close = async () => {
    await limiter.close();
    await dropLimitKeys(prefix);
  };
  if (!(await whenReady(redis, 5_000))) {
    await close();
    throw new Error(`redis at ${REDIS_URL} is not answering; these tests need it`);
  }
  return { limiter, prefix, close };
}

export const LIMITER_BACKENDS = ['memory', 'redis'] as const;
export type LimiterBackend = (typeof LIMITER_BACKENDS)[number];

export interface LimiterUnderTest {
  readonly backend: LimiterBackend;
  readonly limiter: RateLimiter;
  /** Lets `ms` pass: the fake clock moves, or the test sleeps while the Redis server's clock runs. */
  advance(ms: number): Promise<void>;
  /** The backend's time: the fake clock, or this machine's (the Redis under test runs on it). */
  now(): number;
  /** How far a backend's waits may be off from the exact figure (time passing between calls). */
  readonly toleranceMs: number;
  close(): Promise<void>;
}

/** A limiter of `backend`; a fresh identity per test keeps tests apart on a shared one. */
export async function openLimiter(backend: LimiterBackend, memory: MemoryLimiterOptions = {}): Promise<LimiterUnderTest> {
  if (backend === 'memory') {
    const clock = fakeClock(Date.UTC(2030, 0, 15, 12));
    const limiter = new MemoryLimiter({ clock: clock.now, ...memory });
    return { backend, limiter, advance: async (ms) => clock.advance(ms), now: clock.now, toleranceMs: 0, close: () => limiter.close() };
  }
  const { limiter, close } = await redisLimiter();
  return { backend, limiter, advance: (ms) => sleep(ms), now: Date.now, toleranceMs: 100, close };
}

/** An identity no other test uses. */
export const freshIdentity = (label = 'ip'): string => `${label}:${randomBytes(5).toString('hex')}`;
