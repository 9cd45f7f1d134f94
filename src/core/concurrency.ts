import pLimit from 'p-limit';
import { whenAborted } from './abort-hub.js';
import { toRelayError, type RelayError } from './errors.js';

export interface Settled<T> {
  results: T[];
  errors: RelayError[];
}

/**
 * Runs `work` for every item, at most `concurrency` at once. A failing item does not fail the
 * others; an item not finished when `signal` aborts (the request's deadline) is reported with
 * `onDeadline()` and its late result is dropped.
 */
export async function settleAll<I, T>(
  items: readonly I[],
  concurrency: number,
  signal: AbortSignal,
  onDeadline: () => RelayError,
  work: (item: I) => Promise<T>,
): Promise<Settled<T>> {
  // Most requests carry fewer observables than the bound: those need no queue.
  const limit = items.length <= concurrency ? undefined : pLimit(concurrency);
  let stopWatching = (): void => undefined;
  const deadline = new Promise<never>((_, reject) => {
    const fail = (): void => reject(onDeadline());
    if (signal.aborted) fail();
    else stopWatching = whenAborted(signal, fail);
  });
  deadline.catch(() => undefined);
  const outcomes = await Promise.allSettled(items.map((item) => Promise.race([limit === undefined ? (async () => work(item))() : limit(() => work(item)), deadline])));
  limit?.clearQueue();
  stopWatching();
  const settled: Settled<T> = { results: [], errors: [] };
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') settled.results.push(outcome.value);
    else settled.errors.push(toRelayError(outcome.reason));
  }
  return settled;
}
