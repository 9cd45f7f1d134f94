// Token buckets and cool-downs in Redis, so every instance (and every worker) spends one budget
// per credential. One Lua script per call: atomic, and timed by Redis's clock, not each host's.
import type { Redis } from 'ioredis';
import type { Admission, RateLimit, RateLimitState } from './rate-limit.js';

// Same arithmetic as reserveToken() in rate-limit.ts. Returns {0, wait} to go, {1, ms} when a
// cool-down is on, {2, ms} when the token comes too late.
const ACQUIRE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {1, blocked} end
local interval = tonumber(ARGV[1])
if interval <= 0 then return {0, 0} end
local tolerance = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
local previous = tonumber(redis.call('GET', KEYS[1]) or now)
local start = math.max(now, previous - tolerance)
local wait = start - now
if wait > maxWait then return {2, math.ceil(wait)} end
local tat = math.max(previous, start) + interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
return {0, math.ceil(wait)}
`;

const BLOCK = `
local current = redis.call('PTTL', KEYS[1])
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`;

export class RedisRateLimitState implements RateLimitState {
  constructor(
    private readonly redis: Redis,
    /** Redis failing must not stop lookups: the call goes ahead (fail open) and this hears why. */
    private readonly onError: (error: unknown) => void,
    private readonly prefix = 'ctr-relay:',
  ) {}

  async acquire(bucket: string, limit: RateLimit | null, maxWaitMs: number): Promise<Admission> {
    const interval = limit === null ? 0 : (limit.perSeconds * 1000) / limit.requests;
    const tolerance = limit === null ? 0 : Math.max(0, limit.requests - 1) * interval;
    const maxWait = Number.isFinite(maxWaitMs) ? maxWaitMs : Number.MAX_SAFE_INTEGER;
    try {
      const [code, ms] = (await this.redis.eval(
        ACQUIRE,
        2,
        `${this.prefix}bucket:${bucket}`,
        `${this.prefix}cool-down:${bucket}`,
        String(interval),
        String(tolerance),
        String(maxWait),
      )) as [number, number];
      return code === 0 ? { outcome: 'go', waitMs: ms } : { outcome: 'refused', retryAfterMs: ms, coolDown: code === 1 };
    } catch (error) {
      this.onError(error);
      return { outcome: 'go', waitMs: 0 };
    }
  }

  async block(bucket: string, forMs: number): Promise<void> {
    try {
      await this.redis.eval(BLOCK, 1, `${this.prefix}cool-down:${bucket}`, String(Math.ceil(forMs)));
    } catch (error) {
      this.onError(error);
    }
  }

  // The connection belongs to whoever opened it (it is shared with the cache).
  async close(): Promise<void> {}
}
