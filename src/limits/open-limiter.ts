// The client rate limiter limits.backend asks for: memory per process, or Redis shared by every
// node with the memory fallback around it.
import type { LimitsConfig } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { FallbackLimiter } from './fallback.js';
import { MemoryLimiter, type MemoryLimiterOptions } from './memory-store.js';
import { connectLimitsRedis, whenReady } from './redis-connection.js';
import { RedisLimiter, type RedisLimiterOptions } from './redis-store.js';
import type { BackendName, RateLimiter } from './types.js';

export interface OpenRateLimiterOptions {
  limits: Pick<LimitsConfig, 'backend' | 'nodes' | 'redis_timeout_ms'>;
  /** Required for the redis backend (storage.redis_url or REDIS_URL). */
  redisUrl?: string;
  logger: Logger;
  memory?: MemoryLimiterOptions;
  redis?: Omit<RedisLimiterOptions, 'redis'>;
  /** Longest wait for Redis at start-up before starting in memory mode (a probe keeps trying). */
  startupWaitMs?: number;
  onModeChange?: (mode: BackendName) => void;
}

export async function openRateLimiter(options: OpenRateLimiterOptions): Promise<RateLimiter> {
  const { limits, logger } = options;
  const memory = new MemoryLimiter(options.memory);
  if (limits.backend === 'memory') return memory;
  if (!options.redisUrl) throw new Error('limits.backend is redis but no Redis URL is configured (storage.redis_url or REDIS_URL)');
  const redis = connectLimitsRedis(options.redisUrl, { commandTimeoutMs: limits.redis_timeout_ms }, logger);
  const ready = await whenReady(redis, options.startupWaitMs ?? 1_000);
  return new FallbackLimiter({
    primary: new RedisLimiter({ ...options.redis, redis }),
    fallback: memory,
    nodes: limits.nodes,
    timeoutMs: limits.redis_timeout_ms,
    initialMode: ready ? 'redis' : 'memory',
    logger,
    onModeChange: options.onModeChange,
  });
}
