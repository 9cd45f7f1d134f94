// What a provider learns from upstream answers and may use to make fewer calls next time (where
// an OTX observable sat in a pulse's pages, say). Only ever a hint that the provider checks
// against a fresh or cached answer, kept per credential and no longer than answers are cached;
// with CACHE=off there is none, so every lookup starts afresh.
import { LRUCache } from 'lru-cache';

/**
 * `compute` once per object, kept while the object lives. Cached answers, their parsed parts and
 * a remembered token's credentials are the same objects in request after request, so what is
 * worked out from them need not be worked out again.
 */
export function perObject<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const results = new WeakMap<K, V>();
  return (key) => {
    if (results.has(key)) return results.get(key) as V;
    const result = compute(key);
    results.set(key, result);
    return result;
  };
}

export interface Memo {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export class ProviderMemo {
  private readonly entries: LRUCache<string, string>;

  constructor(ttlSeconds: number, maxEntries = 10_000) {
    this.entries = new LRUCache<string, string>({ max: maxEntries, ttl: ttlSeconds * 1000 });
  }

  /** The memo of one credential (its scope hash): nothing one credential learns serves another. */
  forScope(scope: string): Memo {
    return {
      get: (key) => this.entries.get(`${scope}\u0000${key}`),
      set: (key, value) => void this.entries.set(`${scope}\u0000${key}`, value),
    };
  }
}
