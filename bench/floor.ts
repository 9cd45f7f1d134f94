// The floor under the benchmark's observe latencies: how long a bare HTTP client, in a process of
// its own on this machine, takes to make the same number of calls in the same rounds against a
// fake provider of the same latency (bench/floor-client.mjs). A relay cannot answer faster than
// that; a target below the floor cannot be met on this machine by any relay (docs/benchmark.md).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The calls of each round of one observe request (one round per level of the module's call depth). */
export function roundsOf(providerId: string, callDepth: number, observables: number, calls: number): number[] {
  if (callDepth <= 1) return [calls];
  // Pulsedive: `info` for every value, then `links` for the known ones.
  if (callDepth === 2) return [observables, Math.max(0, calls - observables)];
  // OTX's benchmark values are each in 5 pulses of 3 pages: `general`, the first pages, the rest.
  const first = Math.min(Math.max(0, calls - observables), (providerId === 'otx' ? 5 : 1) * observables);
  return [observables, first, Math.max(0, calls - observables - first)];
}

/** The median time (ms) of a bare client making `rounds` of calls to `origin`, at most `connections` at once. */
export async function bareClientMs(origin: string, rounds: number[], connections: number, runs = 5): Promise<number> {
  const script = new URL('./floor-client.mjs', import.meta.url);
  const { stdout } = await run(process.execPath, [script.pathname, origin, String(connections), String(runs), rounds.filter((count) => count > 0).join(',')], {
    timeout: 120_000,
  });
  return (JSON.parse(stdout) as { medianMs: number }).medianMs;
}
