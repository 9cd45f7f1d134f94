// Where upstream answers are kept between requests: this process's memory, or Redis shared by
// every instance. Keys are hashes (see cached-http.ts), so a store never holds a credential.
import type { UpstreamResponse } from '../upstream.js';

export interface CacheStore {
  /** The answer kept under `key`, or undefined when none is (or it has expired). */
  get(key: string): Promise<UpstreamResponse | undefined>;
  /** The same, at once, for a store in this process (a warm lookup then costs no promise). */
  getNow?(key: string): UpstreamResponse | undefined;
  /** Keeps `value` for `ttlSeconds` (more than 0). */
  set(key: string, value: UpstreamResponse, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}
