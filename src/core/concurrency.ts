import pLimit from 'p-limit';
import { whenAborted } from './abort-hub.js';
import { toRelayError, type RelayError } from './errors.js';
import { turns } from './turns.js';

export interface Settled<T> {
  results: T[];
  errors: RelayError[];
}

export interface BoundedRunner {
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Drops what still waits in the queue. */
  clear(): void;
}

/**
 * Runs work at most `concurrency` at a time. With no more than `concurrency` tasks (`count`, the
 * usual case) nothing can wait, so no queue is built: that saves several promises per task.
 */
export function boundedRunner(count: number, concurrency: number): BoundedRunner {
  if (count <= concurrency) return { run: async (work) => work(), clear: () => undefined };
  const queue = pLimit(concurrency);
  return { run: (work) => queue(work), clear: () => queue.clearQueue() };
}

/**
 * Runs `work` for every item, at most `concurrency` at once. A failing item does not fail the
 * others; an item not finished when `signal` aborts (the request's deadline) is reported with
 * `onDeadline()` and its late result is dropped. With an `owner` (the relay request), each item
 * starts in that owner's turn (turns.ts): starting 1000 observables is 1000 first calls, tens of
 * milliseconds that would otherwise hold the event loop at once.
 */
export async function settleAll<I, T>(
  items: readonly I[],
  concurrency: number,
  signal: AbortSignal,
  onDeadline: () => RelayError,
  work: (item: I) => Promise<T>,
  owner?: object,
): Promise<Settled<T>> {
  const limit = boundedRunner(items.length, concurrency);
  const start =
    owner === undefined
      ? work
      : (item: I): Promise<T> =>
          turns.next(owner).then(() => (signal.aborted ? Promise.reject(onDeadline()) : work(item)));
  let stopWatching = (): void => undefined;
  const deadline = new Promise<never>((_, reject) => {
    const fail = (): void => reject(onDeadline());
    if (signal.aborted) fail();
    else stopWatching = whenAborted(signal, fail);
  });
  deadline.catch(() => undefined);
  const outcomes = await Promise.allSettled(items.map((item) => Promise.race([limit.run(() => start(item)), deadline])));
  limit.clear();
  stopWatching();
  const settled: Settled<T> = { results: [], errors: [] };
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') settled.results.push(outcome.value);
    else settled.errors.push(toRelayError(outcome.reason));
  }
  return settled;
}
