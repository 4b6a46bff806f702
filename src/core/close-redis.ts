// Closing an ioredis connection that may be down: politely when Redis answers, by dropping the
// socket when it does not (quit() would wait for a reply that never comes).
import type { Redis } from 'ioredis';

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
