// One relay request's signal is watched by every upstream call it makes (hundreds for 50 OTX
// observables). Node's EventTarget scans all listeners already registered on every add and
// remove, so that many listeners cost O(n²); here a signal gets one listener that fans out to a Set.

const hubs = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `callback` once when `signal` aborts; returns the function that stops watching. A signal
 * already aborted never calls back: callers check `signal.aborted` first.
 */
export function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) return noop;
  let hub = hubs.get(signal);
  if (hub === undefined) {
    const callbacks = new Set<() => void>();
    hubs.set(signal, callbacks);
    signal.addEventListener(
      'abort',
      () => {
        hubs.delete(signal);
        for (const each of [...callbacks]) each();
        callbacks.clear();
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
