// How full the JavaScript heap is, sampled every 50 ms (reading it costs microseconds; a request
// path must not pay that per call). The byte accounting (byte-gate.ts, the transit bound in
// upstream.ts) bounds what the relay knows it holds; this is the backstop for what it cannot
// count exactly (what providers parse from answers, garbage not yet collected): under pressure no
// new upstream call starts, answers being received are dropped, and new requests are refused,
// before the heap's limit ends the process.
import { getHeapStatistics } from 'node:v8';

let fraction = 0;
let timer: NodeJS.Timeout | undefined;
let users = 0;
let reserved = 0;

function sample(): void {
  const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
  fraction = used / Math.max(1, limit - reserved);
}

/**
 * Heap limit this isolate leaves to another one of the same process: the relay's thread leaves
 * the main thread's share (bridge/relay-thread.ts), so that its thresholds below keep the whole
 * process, not only its own heap, within what HEAP_MB allows (every isolate gets HEAP_MB).
 */
export function reserveHeap(bytes: number): void {
  reserved = bytes;
  if (timer !== undefined) sample();
}

/** Starts sampling (once for all callers); the returned function stops it when the last caller stops. */
export function watchHeap(): () => void {
  users += 1;
  if (timer === undefined) {
    sample();
    timer = setInterval(sample, 50);
    timer.unref();
  }
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    users -= 1;
    if (users === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** The heap's used share of its limit at the last sample (0 to 1). */
export function heapUsed(): number {
  return fraction;
}

/** No new upstream call starts above this (but the oldest observable under way still may). */
export const THROTTLE_AT = 0.7;
/** New requests are refused above this. */
export const REFUSE_AT = 0.75;
/** Answers being received are dropped above this. */
export const DROP_AT = 0.85;
