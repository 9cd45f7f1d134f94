// One ioredis connection for the cache and the rate limits. Commands fail fast while Redis is
// away (no offline queue, short time-outs) so lookups fall back to the provider instead of
// waiting; the client keeps reconnecting in the background.
import type { Redis } from 'ioredis';

export async function connectRedis(url: string, onError: (error: unknown) => void): Promise<Redis> {
  // Loaded only when REDIS_URL is set: a relay without Redis does not pay for the client.
  const { Redis: RedisClient } = await import('ioredis');
  const redis = new RedisClient(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  });
  // Without a listener ioredis prints every connection error itself.
  redis.on('error', onError);
  try {
    await redis.connect();
  } catch (error) {
    onError(error);
  }
  return redis;
}
