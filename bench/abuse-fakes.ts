// The abuse benchmark's fake providers, in a worker thread (their work is not the relay's): the
// hostile OTX (test/helpers/hostile-otx.ts), whose shape the main thread changes per scenario,
// and ordinary X-Force and CyberCrime Tracker fakes. Each counts its requests in a shared array.
import { parentPort, workerData } from 'node:worker_threads';
import { startFakeUpstream, type FakeHandler, type FakeReply } from '../test/helpers/fake-upstream.js';
import { hostileOtxHandler, type HostileOtxOptions } from '../test/helpers/hostile-otx.js';
import { cybercrimeTrackerScenario } from '../src/providers/cybercrime-tracker/test-support/scenario.js';
import { xforceScenario } from '../src/providers/xforce/test-support/scenario.js';

export interface AbuseFakesData {
  latencyMs: number;
  /** Int32 per fake: otx, xforce, cybercrime-tracker. */
  counters: SharedArrayBuffer;
}

const { latencyMs, counters } = workerData as AbuseFakesData;
const counts = new Int32Array(counters);

let otx = hostileOtxHandler({ pulses: 100 });
const handlers: (() => FakeHandler)[] = [() => otx, () => xforceScenario.handler, () => cybercrimeTrackerScenario.handler];
const fakes = await Promise.all(
  handlers.map(async (current, index) => {
    const fake = await startFakeUpstream(undefined, { keepAliveTimeoutMs: 30_000 });
    fake.setHandler(async (request) => {
      // The recordings are never read here: dropped, so this thread's memory stays flat.
      fake.requests.length = 0;
      Atomics.add(counts, index, 1);
      const reply: FakeReply = await current()(request);
      return { ...reply, delayMs: (reply.delayMs ?? 0) + latencyMs };
    });
    return fake;
  }),
);

parentPort!.postMessage({ urls: fakes.map((fake) => fake.url) });
parentPort!.on('message', (message: { otx?: HostileOtxOptions; close?: boolean }) => {
  if (message.otx !== undefined) {
    otx = hostileOtxHandler(message.otx);
    parentPort!.postMessage({ ready: true });
  }
  if (message.close === true) void Promise.all(fakes.map((fake) => fake.close())).then(() => process.exit(0));
});
