// Gentle with the providers' quotas: a token bucket per provider and credential, and a cool-down
// after the provider itself said 429. Both answer `too many requests` at once when the wait would
// be longer than RATE_LIMIT_MAX_WAIT_MS or run past the caller's deadline, instead of holding the
// request for tokens it will not get in time.
import { whenAborted, type AbortLike } from './abort-hub.js';
import { LRUCache } from 'lru-cache';
import { tooManyRequests, unavailable } from './errors.js';

/** `requests` calls per `perSeconds` seconds, in bursts of up to `requests`. */
export interface RateLimit {
  requests: number;
  perSeconds: number;
}

/** Refused: by the provider's own cool-down (`coolDown`), or because the bucket's next token comes too late. */
export type Admission = { outcome: 'go'; waitMs: number } | { outcome: 'refused'; retryAfterMs: number; coolDown?: boolean };

/** Where buckets and cool-downs live: this process, or Redis when instances share them. */
export interface RateLimitState {
  /** Takes one token of `bucket` for a call starting at most `maxWaitMs` from now; takes nothing when refused. */
  acquire(bucket: string, limit: RateLimit | null, maxWaitMs: number): Promise<Admission>;
  /** No call for `bucket` until `forMs` from now (the provider's Retry-After). */
  block(bucket: string, forMs: number): Promise<void>;
  close(): Promise<void>;
}

// Buckets are per provider and credential: far fewer than this in any deployment. (lru-cache sets
// aside memory for every slot up front: at 100,000 that was 3 MB of an idle relay.) The least
// recently used bucket is dropped first, which only ever makes the limit more lenient.
const MAX_BUCKETS = 10_000;

/** `<requests>/<seconds>` (`60/60`, `1/1`, `5000/86400`) or `off`: null for off, undefined when invalid. */
export function parseRateLimit(text: string): RateLimit | null | undefined {
  const value = text.trim().toLowerCase();
  if (['off', 'none', 'false', '0'].includes(value)) return null;
  const match = /^(\d+)\s*\/\s*(\d+)$/.exec(value);
  if (match === null) return undefined;
  const requests = Number(match[1]);
  const perSeconds = Number(match[2]);
  if (requests < 1 || perSeconds < 1 || requests > 1_000_000 || perSeconds > 31 * 86_400) return undefined;
  return { requests, perSeconds };
}

/**
 * The token bucket as GCRA (one number per bucket: the theoretical arrival time `tat`, in ms), so
 * the same arithmetic runs here and in Redis's Lua. A call may start once `tat - tolerance` has
 * passed; each call moves `tat` one interval on.
 */
export function reserveToken(
  tat: number | undefined,
  now: number,
  limit: RateLimit,
  maxWaitMs: number,
): { waitMs: number; tat: number } | { retryAfterMs: number } {
  const interval = (limit.perSeconds * 1000) / limit.requests;
  const tolerance = Math.max(0, limit.requests - 1) * interval;
  const previous = tat ?? now;
  const start = Math.max(now, previous - tolerance);
  const waitMs = start - now;
  if (waitMs > maxWaitMs) return { retryAfterMs: waitMs };
  return { waitMs, tat: Math.max(previous, start) + interval };
}

/** Buckets and cool-downs of this process only (the default, and with WORKERS > 1 without Redis). */
export class LocalRateLimitState implements RateLimitState {
  private readonly tats = new LRUCache<string, number>({ max: MAX_BUCKETS });
  private readonly blockedUntil = new LRUCache<string, number>({ max: MAX_BUCKETS });

  constructor(private readonly clock: () => number = Date.now) {}

  async acquire(bucket: string, limit: RateLimit | null, maxWaitMs: number): Promise<Admission> {
    const now = this.clock();
    const until = this.blockedUntil.get(bucket);
    if (until !== undefined && until > now) return { outcome: 'refused', retryAfterMs: until - now, coolDown: true };
    if (limit === null) return { outcome: 'go', waitMs: 0 };
    const reserved = reserveToken(this.tats.get(bucket), now, limit, maxWaitMs);
    if ('retryAfterMs' in reserved) return { outcome: 'refused', retryAfterMs: reserved.retryAfterMs };
    this.tats.set(bucket, reserved.tat);
    return { outcome: 'go', waitMs: reserved.waitMs };
  }

  async block(bucket: string, forMs: number): Promise<void> {
    const until = this.clock() + forMs;
    if ((this.blockedUntil.get(bucket) ?? 0) < until) this.blockedUntil.set(bucket, until);
  }

  async close(): Promise<void> {}
}

function sleep(ms: number, signal: AbortLike, abortError: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError());
      return;
    }
    const stopWatching = whenAborted(signal, () => {
      clearTimeout(timer);
      reject(abortError());
    });
    const timer = setTimeout(() => {
      stopWatching();
      resolve();
    }, ms);
  });
}

/** Longest cool-down honoured: a provider saying "retry in a month" is asked again tomorrow. */
const MAX_COOL_DOWN_SECONDS = 86_400;

export class RateLimiter {
  constructor(private readonly state: RateLimitState) {}

  /**
   * Resolves when a call for `bucket` may go: at once, or after a wait of at most `maxWaitMs`.
   * Throws `too many requests` when it would have to wait longer, or while the provider's own
   * cool-down lasts. Its retry-after is when this call could go, `refusedBefore()` calls of the
   * same request having been refused ahead of it (refused calls take no token, so each would
   * otherwise be told the same next token): a retry of the request then finds tokens for all.
   */
  async admit(bucket: string, limit: RateLimit | null, maxWaitMs: number, signal: AbortLike, providerName: string, refusedBefore: () => number = () => 0): Promise<void> {
    const admission = await this.state.acquire(bucket, limit, Math.max(0, maxWaitMs));
    if (admission.outcome === 'refused') {
      // Asked only now, when the refusal is known: calls refused together count one after another.
      const ahead = refusedBefore();
      let retryAfterMs = admission.retryAfterMs;
      if (admission.coolDown !== true && limit !== null) retryAfterMs += ahead * ((limit.perSeconds * 1000) / limit.requests);
      throw tooManyRequests(providerName, Math.max(1, Math.ceil(retryAfterMs / 1000)));
    }
    if (admission.waitMs > 0) await sleep(admission.waitMs, signal, () => unavailable(providerName));
  }

  /** After a 429: nothing for `bucket` until its Retry-After has passed. */
  async coolDown(bucket: string, retryAfterSeconds: number): Promise<void> {
    if (retryAfterSeconds <= 0) return;
    await this.state.block(bucket, Math.min(retryAfterSeconds, MAX_COOL_DOWN_SECONDS) * 1000);
  }

  close(): Promise<void> {
    return this.state.close();
  }
}
