import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { whenAborted } from './abort-hub.js';

test('many watchers of one signal share one listener, and each is called once on abort', () => {
  const controller = new AbortController();
  const calls: number[] = [];
  for (let index = 0; index < 500; index += 1) whenAborted(controller.signal, () => calls.push(index));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  assert.equal(calls.length, 500);
  assert.deepEqual(calls.slice(0, 3), [0, 1, 2]);
});

test('a watcher that stopped watching is not called', () => {
  const controller = new AbortController();
  let called = 0;
  const stop = whenAborted(controller.signal, () => (called += 1));
  const kept = whenAborted(controller.signal, () => (called += 10));
  stop();
  controller.abort();
  assert.equal(called, 10);
  kept();
});

test('an already aborted signal never calls back', () => {
  let called = false;
  const stop = whenAborted(AbortSignal.abort(), () => (called = true));
  stop();
  assert.equal(called, false);
});
