// What every provider module offers the shared test suites, the benchmark and the CLI tests: how
// to point the relay at a fake of it, credentials, and a fake that knows many observables.
import type { Observable } from '../../src/core/observables.js';
import type { Env } from '../../src/core/settings.js';
import type { FakeHandler } from './fake-upstream.js';

export interface ProviderScenario {
  providerId: string;
  /** Settings that point the module at a fake upstream listening at `fakeUrl` (ends with `/`). */
  envFor(fakeUrl: string): Env;
  /** Token payload fields (credentials), or null when the provider needs none. */
  credentials: Record<string, string> | null;
  /**
   * A realistic fake: answers every call the module makes for `observables(n)` with fixture-based
   * answers (something known for each), and checks the credentials like the real API (401/403).
   */
  handler: FakeHandler;
  /** `n` distinct, valid observables the fake knows. */
  observables(n: number): Observable[];
  /** Upstream round trips one observe of one observable needs one after another (its call depth). */
  callDepth: number;
  /** The benchmark's 20-observable list for comparing upstream calls with the original relay's. */
  comparison: ComparisonList;
}

/** A list the original relay's call count is known for (docs/benchmark.md). */
export interface ComparisonList {
  /** The 20 observables; `round` gives other values of the same makeup (back-to-back requests). */
  observables(round?: number): Observable[];
  /** Upstream calls the original relay makes for the list (from its code, per type, known or not). */
  originalCalls: number;
  /** What the list holds and where the original's count comes from. */
  makeup: string;
}
