// The shared cache: with REDIS_URL set, every instance and worker reads what any one of them
// fetched. Redis trouble never fails a lookup: a read error is a miss, a write error is skipped.
import type { Redis } from 'ioredis';
import type { UpstreamResponse } from '../upstream.js';
import type { CacheStore } from './store.js';

function isUpstreamResponse(value: unknown): value is UpstreamResponse {
  if (value === null || typeof value !== 'object') return false;
  const { status, headers, body } = value as Record<string, unknown>;
  return typeof status === 'number' && typeof body === 'string' && headers !== null && typeof headers === 'object';
}

export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly onError: (error: unknown) => void,
    private readonly prefix = 'ctr-relay:cache:',
  ) {}

  async get(key: string): Promise<UpstreamResponse | undefined> {
    try {
      const text = await this.redis.get(this.prefix + key);
      if (text === null) return undefined;
      const value: unknown = JSON.parse(text);
      return isUpstreamResponse(value) ? value : undefined;
    } catch (error) {
      this.onError(error);
      return undefined;
    }
  }

  async set(key: string, value: UpstreamResponse, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    try {
      await this.redis.set(this.prefix + key, JSON.stringify(value), 'EX', ttlSeconds);
    } catch (error) {
      this.onError(error);
    }
  }

  // The connection belongs to whoever opened it (it is shared with the rate limits).
  async close(): Promise<void> {}
}
