// Concurrent identical upstream calls share one request. The shared call is not tied to the
// first caller: it is aborted only when every caller waiting for it has gone (deadline passed or
// client disconnected), so one impatient caller cannot fail the others.

import { Cancellation, whenAborted, type AbortLike } from './abort-hub.js';

interface Flight<T> {
  promise: Promise<T>;
  controller: Cancellation;
  waiters: number;
}

export interface Joined<T> {
  /** Whether another caller's call was joined (no upstream call of this caller's own). */
  shared: boolean;
  result: Promise<T>;
}

export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /**
   * `work(signal)` once per `key` at a time. The caller's `signal` aborting rejects its own wait
   * with `onAbort()`; the work is aborted when no caller is left.
   */
  run(key: string, signal: AbortLike, onAbort: () => Error, work: (signal: AbortLike) => Promise<T>): Joined<T> {
    let flight = this.flights.get(key);
    const shared = flight !== undefined;
    if (flight === undefined) {
      const controller = new Cancellation();
      const started: Flight<T> = { promise: Promise.resolve().then(() => work(controller)), controller, waiters: 0 };
      started.promise
        .finally(() => {
          if (this.flights.get(key) === started) this.flights.delete(key);
        })
        .catch(() => undefined);
      this.flights.set(key, started);
      flight = started;
    }
    const current = flight;
    current.waiters += 1;
    const result = new Promise<T>((resolve, reject) => {
      const leave = (): void => {
        current.waiters -= 1;
        if (current.waiters === 0) {
          current.controller.abort();
          // Later callers start afresh rather than join a call being torn down.
          if (this.flights.get(key) === current) this.flights.delete(key);
        }
        reject(onAbort());
      };
      if (signal.aborted) {
        leave();
        return;
      }
      const stopWatching = whenAborted(signal, leave);
      current.promise.then(
        (value) => {
          stopWatching();
          resolve(value);
        },
        (error: unknown) => {
          stopWatching();
          reject(error);
        },
      );
    });
    return { shared, result };
  }

  /** Calls in flight now: for tests and diagnostics. */
  get size(): number {
    return this.flights.size;
  }
}
