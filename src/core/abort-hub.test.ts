import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Cancellation, whenAborted } from './abort-hub.js';

/** Watchers are told in turns (turns.ts): until they all were, or 10 s. */
async function told(check: () => boolean): Promise<void> {
  for (let tries = 0; tries < 1000 && !check(); tries += 1) await new Promise((resolve) => setTimeout(resolve, 10));
}

test('many watchers of one signal share one listener, and each is called once on abort', async () => {
  const controller = new AbortController();
  const calls: number[] = [];
  for (let index = 0; index < 500; index += 1) whenAborted(controller.signal, () => calls.push(index));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  await told(() => calls.length >= 500);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(calls.length, 500);
  assert.deepEqual(calls.slice(0, 3), [0, 1, 2]);
});

test('a watcher that stopped watching is not called', async () => {
  const controller = new AbortController();
  let called = 0;
  const stop = whenAborted(controller.signal, () => (called += 1));
  const kept = whenAborted(controller.signal, () => (called += 10));
  stop();
  controller.abort();
  await told(() => called >= 10);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(called, 10);
  kept();
});

test('an already aborted signal never calls back', () => {
  let called = false;
  const stop = whenAborted(AbortSignal.abort(), () => (called = true));
  stop();
  assert.equal(called, false);
});

test('a Cancellation calls each watcher once, skips those that stopped, and ignores watchers added after it fired', () => {
  const cancellation = new Cancellation();
  const calls: string[] = [];
  whenAborted(cancellation, () => calls.push('a'));
  const stop = whenAborted(cancellation, () => calls.push('b'));
  stop();
  cancellation.abort();
  cancellation.abort();
  assert.equal(cancellation.aborted, true);
  whenAborted(cancellation, () => calls.push('late'));
  assert.deepEqual(calls, ['a']);
});
