// One relay request's signal is watched by every upstream call it makes (hundreds for 50 OTX
// observables). Node's EventTarget scans all listeners already registered on every add and
// remove, so that many listeners cost O(n²); here a signal gets one listener that fans out to a Set.

import { turns } from './turns.js';

const hubs = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * An abort flag and its callbacks, without an EventTarget: an AbortController costs microseconds
 * to make, and single-flight needs one for every upstream call.
 */
export class Cancellation {
  aborted = false;
  private callbacks: Set<() => void> | undefined;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const callbacks = this.callbacks;
    this.callbacks = undefined;
    if (callbacks !== undefined) for (const each of [...callbacks]) each();
  }

  /** See whenAborted. */
  watch(callback: () => void): () => void {
    if (this.aborted) return noop;
    const callbacks = (this.callbacks ??= new Set());
    callbacks.add(callback);
    return () => void callbacks.delete(callback);
  }
}

/** What the relay's own code needs of a signal: whether it fired, and (through whenAborted) when. */
export type AbortLike = AbortSignal | Cancellation;

/**
 * Runs `callback` once when `signal` aborts; returns the function that stops watching. A signal
 * already aborted never calls back: callers check `signal.aborted` first.
 */
export function whenAborted(signal: AbortLike, callback: () => void): () => void {
  if (signal.aborted) return noop;
  if (signal instanceof Cancellation) return signal.watch(callback);
  let hub = hubs.get(signal);
  if (hub === undefined) {
    const callbacks = new Set<() => void>();
    hubs.set(signal, callbacks);
    signal.addEventListener(
      'abort',
      () => {
        hubs.delete(signal);
        // Thousands of watchers (every call and wait of a 1000-observable request at its deadline)
        // are told in turns (turns.ts), not in one stretch that would hold the event loop; one
        // unwatched meanwhile is not told.
        for (const each of callbacks) {
          turns.run(signal, () => {
            if (callbacks.delete(each)) each();
          });
        }
      },
      { once: true },
    );
    hub = callbacks;
  }
  const callbacks = hub;
  callbacks.add(callback);
  return () => void callbacks.delete(callback);
}

function noop(): void {}

/**
 * What the relay's own AbortControllers abort with. Without a reason, abort() builds a
 * DOMException (tens of microseconds, with a stack) that nothing here reads; every request ends
 * its controllers, so that was a DOMException or two per request.
 */
export const ENDED: Error = new Error('ended');
