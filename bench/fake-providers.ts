// The benchmark's fake providers, in a worker thread: they answer on their own event loop (and
// core), as real providers would, so their work is not counted as the relay's. Each fake adds the
// same fixed latency to every answer and counts its requests in a shared array the main thread reads.
import { parentPort, workerData } from 'node:worker_threads';
import { startFakeUpstream } from '../test/helpers/fake-upstream.js';
import { SCENARIOS } from '../test/helpers/scenarios.js';

export interface FakeProvidersData {
  latencyMs: number;
  /** One Int32 per scenario, in SCENARIOS order: upstream requests received. */
  counters: SharedArrayBuffer;
}

const { latencyMs, counters } = workerData as FakeProvidersData;
const counts = new Int32Array(counters);

const fakes = await Promise.all(
  SCENARIOS.map(async (scenario, index) => {
    const fake = await startFakeUpstream(
      async (request) => {
        Atomics.add(counts, index, 1);
        // Nothing reads the recordings here; dropping them keeps this thread's memory flat.
        fake.requests.length = 0;
        const reply = await scenario.handler(request);
        return { ...reply, delayMs: latencyMs + (reply.delayMs ?? 0) };
      },
      // undici drops sockets whose server hints under 2 s of keep-alive; real providers allow more.
      { keepAliveTimeoutMs: 30_000 },
    );
    return fake;
  }),
);

parentPort!.postMessage({ urls: fakes.map((fake) => fake.url) });
parentPort!.on('message', (message: unknown) => {
  if (message === 'close') void Promise.all(fakes.map((fake) => fake.close())).then(() => process.exit(0));
});
