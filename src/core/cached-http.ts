// What stands between a relay request and a provider: the cache, single-flight, the token bucket
// and the provider's own 429 cool-down. UpstreamClient.forRequest() routes every call through the
// module's gate; the client behind it keeps the in-flight bound and the per-call time limit.
import { hash } from 'node:crypto';
import type { AbortLike } from './abort-hub.js';
import type { Redis } from 'ioredis';
import { MemoryCacheStore } from './cache/memory-store.js';
import { connectRedis } from './cache/redis-connection.js';
import { RedisCacheStore } from './cache/redis-store.js';
import type { CacheStore } from './cache/store.js';
import { unavailable } from './errors.js';
import { LocalRateLimitState, RateLimiter, type RateLimit } from './rate-limit.js';
import { RedisRateLimitState } from './rate-limit-redis.js';
import type { Settings } from './settings.js';
import { SingleFlight } from './single-flight.js';
import { retryAfterSeconds, withinHold, type RequestScope, type SendUpstream, type UpstreamGate, type UpstreamRequest, type UpstreamResponse } from './upstream.js';

// Data, and the statuses the providers use for "nothing known": both worth keeping. Never
// 401/403 (a fixed key must work at once), 429 (handled by the cool-down) or 5xx.
const CACHED_STATUSES = new Set([400, 404, 406]);
// The only headers a provider reads from an answer; nothing else (cookies above all) is kept.
const KEPT_HEADERS = ['content-type', 'link'];

export function isCacheable(status: number): boolean {
  return (status >= 200 && status < 300) || CACHED_STATUSES.has(status);
}

/**
 * The cache and single-flight key: provider, credential scope, method, origin, path, headers and
 * body, hashed. Pulsedive's key travels in the query and C1fApp's in the body, so only a hash may
 * ever be stored.
 */
export function cacheKey(providerId: string, credentialScope: string, request: UpstreamRequest): string {
  // Fields joined by NUL, which none of them can hold (ids, a hex scope, an encoded path, header
  // names and values), except the body, which comes last: no two calls share a material.
  let headers = '';
  if (request.headers !== undefined) {
    const names = Object.keys(request.headers);
    if (names.length > 1) names.sort();
    for (const name of names) headers += `${name}\u0000${request.headers[name]}\u0000`;
  }
  const material = `${providerId}\u0000${credentialScope}\u0000${request.method ?? 'GET'}\u0000${request.url.origin}\u0000${request.url.path}\u0000${headers}\u0000${request.body ?? ''}`;
  return `${providerId}:${hash('sha256', material, 'hex')}`;
}

function kept(response: UpstreamResponse): UpstreamResponse {
  const headers: Record<string, string | undefined> = {};
  for (const name of KEPT_HEADERS) if (response.headers[name] !== undefined) headers[name] = response.headers[name];
  return { status: response.status, headers, body: response.body };
}

export interface GateOptions {
  providerId: string;
  providerName: string;
  /** Undefined when CACHE=off. */
  cache: CacheStore | undefined;
  ttlSeconds: number;
  limiter: RateLimiter;
  /** Null when the provider has no limit (or RATE_LIMIT_<ID>=off). */
  rateLimit: RateLimit | null;
  /** Longest a call waits for a token (RATE_LIMIT_MAX_WAIT_MS); longer, and it is refused at once. */
  maxWaitMs: number;
}

/** Until calls have been timed: what one call is assumed to take when deciding whether a wait fits. */
const FIRST_CALL_ESTIMATE_MS = 1000;

export class ProviderGate implements UpstreamGate {
  private readonly flights = new SingleFlight<UpstreamResponse>();
  private typicalCallMs = FIRST_CALL_ESTIMATE_MS;
  /** Calls refused a token so far, per relay request (its scope): for their retry-after. */
  private readonly refusals = new WeakMap<RequestScope, number>();

  constructor(private readonly options: GateOptions) {}

  request(request: UpstreamRequest, scope: RequestScope, send: SendUpstream): Promise<UpstreamResponse> {
    // Health checks prove the credentials now: no cache, and no sharing another caller's call.
    if (!scope.useCache) return this.call(request, scope, send, undefined, scope.signal);

    const key = cacheKey(this.options.providerId, scope.credentialScope, request);
    const cache = this.options.ttlSeconds > 0 ? this.options.cache : undefined;
    if (cache === undefined) return this.upstream(request, scope, send, cache, key);
    if (cache.getNow === undefined) return cache.get(key).then((hit) => this.hitOr(hit, request, scope, send, cache, key));
    return this.hitOr(cache.getNow(key), request, scope, send, cache, key);
  }

  private hitOr(hit: UpstreamResponse | undefined, request: UpstreamRequest, scope: RequestScope, send: SendUpstream, cache: CacheStore, key: string): Promise<UpstreamResponse> {
    if (hit === undefined) return this.upstream(request, scope, send, cache, key);
    scope.stats.cacheHits += 1;
    return Promise.resolve(hit);
  }

  /** The call, shared with identical calls in flight (single-flight); cached when `cache` is set. */
  private upstream(request: UpstreamRequest, scope: RequestScope, send: SendUpstream, cache: CacheStore | undefined, key: string): Promise<UpstreamResponse> {
    const { providerName } = this.options;
    const joined = this.flights.run(key, scope.signal, () => unavailable(providerName), (signal) => this.call(request, scope, send, cache === undefined ? undefined : key, signal));
    // Answered without a call of its own: for the request's summary, as good as a cache hit.
    if (joined.shared) scope.stats.cacheHits += 1;
    return joined.result;
  }

  /** The bucket a call spends from: one per provider and credential. */
  private bucket(scope: RequestScope): string {
    return `${this.options.providerId}:${scope.credentialScope}`;
  }

  /** A call that goes upstream: room in the bytes gate first (before a token is spent on it), then the call. */
  private call(request: UpstreamRequest, scope: RequestScope, send: SendUpstream, key: string | undefined, signal: AbortLike): Promise<UpstreamResponse> {
    return withinHold(request, (held) => this.tokenAndCall(held, scope, send, key, signal));
  }

  private async tokenAndCall(request: UpstreamRequest, scope: RequestScope, send: SendUpstream, key: string | undefined, signal: AbortLike): Promise<UpstreamResponse> {
    const { limiter, rateLimit, providerName, cache, ttlSeconds } = this.options;
    // `key` is set only when the answer may be cached.
    const bucket = this.bucket(scope);
    // Wait for a token only briefly (RATE_LIMIT_MAX_WAIT_MS), and only if the call can still finish
    // before the deadline once it has one: a call that cannot get a token in time is refused at
    // once, so the request answers what it could now instead of waiting for its deadline.
    const maxWaitMs = Math.min(this.options.maxWaitMs, scope.deadlineAt - Date.now() - this.typicalCallMs);
    await limiter.admit(bucket, rateLimit, maxWaitMs, signal, providerName, () => {
      const before = this.refusals.get(scope) ?? 0;
      this.refusals.set(scope, before + 1);
      return before;
    });

    const started = performance.now();
    const response = await send(request, signal);
    this.typicalCallMs = 0.8 * this.typicalCallMs + 0.2 * (performance.now() - started);

    if (response.status === 429) {
      const seconds = retryAfterSeconds(response);
      if (seconds !== undefined) await limiter.coolDown(bucket, seconds);
    } else if (key !== undefined && cache !== undefined && isCacheable(response.status)) {
      await cache.set(key, kept(response), ttlSeconds);
    }
    return response;
  }
}

/** The shared state behind every module's gate: the cache store, the limiter, the Redis connection. */
export interface GateResources {
  cache: CacheStore | undefined;
  limiter: RateLimiter;
  redis: Redis | undefined;
  gateFor(provider: { id: string; displayName: string }): ProviderGate;
  close(): Promise<void>;
}

export async function openGateResources(settings: Settings, onError: (error: unknown) => void): Promise<GateResources> {
  const redis = settings.REDIS_URL === undefined ? undefined : await connectRedis(settings.REDIS_URL, onError);
  let cache: CacheStore | undefined;
  if (settings.CACHE) {
    cache =
      redis === undefined
        ? new MemoryCacheStore({ maxEntries: settings.CACHE_MAX_ENTRIES, maxBytes: settings.CACHE_MAX_BYTES })
        : new RedisCacheStore(redis, onError);
  }
  const limiter = new RateLimiter(redis === undefined ? new LocalRateLimitState() : new RedisRateLimitState(redis, onError));
  // Workers without Redis each keep their own buckets: each gets its share of the provider's limit.
  const share = redis === undefined ? settings.WORKERS : 1;

  return {
    cache,
    limiter,
    redis,
    gateFor(provider) {
      const limit = settings.rateLimits[provider.id] ?? null;
      return new ProviderGate({
        providerId: provider.id,
        providerName: provider.displayName,
        cache,
        ttlSeconds: settings.cacheTtlSeconds[provider.id] ?? settings.CACHE_TTL_SECONDS,
        limiter,
        rateLimit: limit === null ? null : { requests: limit.requests / share, perSeconds: limit.perSeconds },
        maxWaitMs: settings.RATE_LIMIT_MAX_WAIT_MS,
      });
    },
    async close() {
      await cache?.close();
      await limiter.close();
      if (redis !== undefined) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
