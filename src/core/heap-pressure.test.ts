import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { heapUsed, reserveHeap, watchHeap } from './heap-pressure.js';

test('a reserve for another isolate counts against this heap: the same use is a larger share', () => {
  const stop = watchHeap();
  try {
    const alone = heapUsed();
    assert.ok(alone > 0 && alone < 1, `${alone}`);
    // Leave half of the limit to someone else: what is used is a share of the other half.
    reserveHeap(getHeapStatistics().heap_size_limit / 2);
    const reserved = heapUsed();
    assert.ok(reserved > 1.6 * alone && reserved < 2.4 * alone, `${alone} then ${reserved}`);
    reserveHeap(0);
    assert.ok(heapUsed() < 1.4 * alone, `${heapUsed()} after the reserve was given back`);
  } finally {
    reserveHeap(0);
    stop();
  }
});
