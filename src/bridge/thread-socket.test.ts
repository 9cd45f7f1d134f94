import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveness, STALE_AFTER_MS } from './front.js';
import type { ToFront } from './messages.js';
import { ThreadSocket, WRITE_WINDOW_BYTES } from './thread-socket.js';

function socket() {
  const sent: ToFront[] = [];
  const duplex = new ThreadSocket(7, { remoteAddress: '192.0.2.1', remotePort: 4321 }, (message) => sent.push(message));
  return { duplex, sent };
}

test('writes beyond the window wait until the front says the client took them', async () => {
  const { duplex, sent } = socket();
  const chunk = Buffer.alloc(WRITE_WINDOW_BYTES / 2, 1);
  let done = 0;
  const write = () => new Promise<void>((resolve) => duplex.write(chunk, () => (done += 1, resolve())));
  const writes = [write(), write(), write()];
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, 1, 'the second write filled the window: it waits');
  assert.equal(sent.filter((message) => message.t === 'data').length, 2);
  duplex.acknowledged(WRITE_WINDOW_BYTES);
  await Promise.all(writes);
  assert.equal(done, 3);
  const data = sent.filter((message): message is Extract<ToFront, { t: 'data' }> => message.t === 'data');
  assert.equal(data.length, 3);
  assert.ok(data.every((message) => message.chunk.byteLength === chunk.length && message.chunk.buffer !== chunk.buffer), 'each is a copy of its own');
  duplex.destroy();
  assert.deepEqual(sent.at(-1), { t: 'destroy', id: 7 });
});

test('reading pauses the client when the HTTP server does not keep up, and resumes it', async () => {
  const { duplex, sent } = socket();
  assert.equal(duplex.remoteAddress, '192.0.2.1');
  assert.equal(duplex.remotePort, 4321);
  const big = new Uint8Array(64 * 1024);
  duplex.received(big);
  assert.deepEqual(sent, [{ t: 'pause', id: 7 }], 'nobody reads yet: past the high-water mark, the client is paused');
  duplex.resume();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sent.at(-1), { t: 'resume', id: 7 });
  duplex.gone();
  assert.ok(!sent.some((message) => message.t === 'destroy'), 'a client already gone is not told');
});

test('an idle socket says so after its timeout', async () => {
  const { duplex } = socket();
  const timedOut = new Promise<void>((resolve) => duplex.setTimeout(30, resolve));
  await timedOut;
  duplex.destroy();
});

test('/healthz fails once the relay thread stops beating', () => {
  assert.equal(liveness(1000, 1000 + STALE_AFTER_MS).status, 200);
  const stale = liveness(1000, 2000 + STALE_AFTER_MS);
  assert.equal(stale.status, 503);
  assert.match(stale.body, /"code":"service unavailable".*has not answered for 11 s/);
  assert.match(liveness(undefined, 0).body, /starting/);
});
