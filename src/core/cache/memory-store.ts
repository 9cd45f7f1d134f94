// The default cache: an LRU in this process, bounded by entry count and by bytes, so a flood of
// distinct lookups (or a few huge answers) cannot grow the heap without limit.
import { LRUCache } from 'lru-cache';
import type { UpstreamResponse } from '../upstream.js';
import type { CacheStore } from './store.js';

export interface MemoryCacheOptions {
  maxEntries: number;
  maxBytes: number;
  /** Tests pass a clock they move; production uses performance.now(). */
  clock?: { now(): number };
}

// What an entry's objects take beyond its strings (the LRU's slot, the frozen entry and its
// headers, the map of parsed forms): measured at 1 to 1.3 KB on the providers' answers.
const ENTRY_OVERHEAD_BYTES = 1024;

/** Roughly what an entry holds on the heap: its strings plus a fixed overhead per object. */
function entryBytes(value: UpstreamResponse, key: string): number {
  // The body, and what providers parse from it (kept with the entry, see parsedOnce): about as much again.
  let bytes = ENTRY_OVERHEAD_BYTES + key.length + 2 * Buffer.byteLength(value.body);
  for (const [name, header] of Object.entries(value.headers)) bytes += name.length + (header?.length ?? 0);
  return bytes;
}

export class MemoryCacheStore implements CacheStore {
  private readonly entries: LRUCache<string, UpstreamResponse>;

  constructor(options: MemoryCacheOptions) {
    this.entries = new LRUCache<string, UpstreamResponse>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: entryBytes,
      // lru-cache otherwise reuses one reading of the clock for a millisecond of real time.
      ...(options.clock === undefined ? {} : { perf: options.clock, ttlResolution: 0 }),
    });
  }

  async get(key: string): Promise<UpstreamResponse | undefined> {
    return this.getNow(key);
  }

  getNow(key: string): UpstreamResponse | undefined {
    // Entries are frozen (see set), so no caller can change what the next one gets.
    return this.entries.get(key);
  }

  async set(key: string, value: UpstreamResponse, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    // An entry larger than maxBytes is refused by the LRU itself.
    const entry: UpstreamResponse = Object.freeze({ ...value, headers: Object.freeze({ ...value.headers }), parsed: new Map<string, unknown>(), cachedAt: Date.now() });
    this.entries.set(key, entry, { ttl: ttlSeconds * 1000 });
  }

  /** What is kept now: for tests and diagnostics. */
  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.entries.calculatedSize;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
