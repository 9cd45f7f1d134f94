import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteGate, ObservableHold } from './byte-gate.js';
import { RelayError } from './errors.js';

const never = new AbortController().signal;
const onAbort = () => new RelayError('service unavailable', 'gone');

test('the gate lets a first call in only while there is room, and always lets the oldest observable go on', async () => {
  const gate = new ByteGate(1000);
  const request = { held: 0 };
  gate.learn('p\u0000a', 600);
  const first = new ObservableHold(gate, request);
  const second = new ObservableHold(gate, request);
  const a = first.before('p\u0000a', never, onAbort);
  assert.equal(a.wait, undefined, 'room: at once');
  first.after('p\u0000a', a.reserved, 600);
  const b = second.before('p\u0000a', never, onAbort);
  assert.ok(b.wait !== undefined, 'no room: it waits');
  let secondIn = false;
  void b.wait.then(() => (secondIn = true));
  // The first observable needs another call to finish: it is the oldest, so it goes though the gate is full.
  const more = first.before('p\u0000a', never, onAbort);
  await more.wait;
  first.after('p\u0000a', more.reserved, 600);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(secondIn, false);
  first.done();
  await b.wait;
  assert.equal(secondIn, true);
  second.after('p\u0000a', b.reserved, 100);
  second.done();
  assert.equal(gate.used, 0);
  assert.equal(request.held, 0);
});

test('a waiting call ends with the request signal', async () => {
  const gate = new ByteGate(1000);
  const request = { held: 0 };
  gate.learn('k', 900);
  const holder = new ObservableHold(gate, request);
  const reserved = holder.before('k', never, onAbort);
  assert.equal(reserved.wait, undefined);
  const controller = new AbortController();
  const waiting = new ObservableHold(gate, request).before('k', controller.signal, onAbort);
  controller.abort();
  await assert.rejects(waiting.wait!, /gone/);
  holder.done();
  assert.equal(gate.used, 0);
  assert.equal(gate.waiting, 0);
});
