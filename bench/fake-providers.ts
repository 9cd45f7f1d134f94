// The benchmark's fake providers, in a worker thread: they answer on their own event loop (and
// core), as real providers would, so their work is not counted as the relay's. Each fake adds the
// same fixed latency to every answer and counts its requests in a shared array the main thread reads.
// The scenarios' handlers answer the same request the same way every time, so each fake keeps its
// replies by request: on this 2-core machine the fakes' own CPU would otherwise show up in the
// relay's latency (a real provider's work does not run on the relay's machine).
import { parentPort, workerData } from 'node:worker_threads';
import { startFakeUpstream, type FakeReply, type RecordedRequest } from '../test/helpers/fake-upstream.js';
import { SCENARIOS } from '../test/helpers/scenarios.js';

export interface FakeProvidersData {
  latencyMs: number;
  /** One Int32 per scenario, in SCENARIOS order: upstream requests received. */
  counters: SharedArrayBuffer;
}

const { latencyMs, counters } = workerData as FakeProvidersData;
const counts = new Int32Array(counters);

// Everything a handler's answer may depend on: the credentials travel in headers, query or body.
const requestKey = ({ method, url, headers, body }: RecordedRequest): string =>
  JSON.stringify([method, url, body, headers.authorization, headers['x-otx-api-key']]);

const fakes = await Promise.all(
  SCENARIOS.map(async (scenario, index) => {
    const replies = new Map<string, FakeReply>();
    const fake = await startFakeUpstream(
      async (request) => {
        Atomics.add(counts, index, 1);
        // Nothing reads the recordings here; dropping them keeps this thread's memory flat.
        fake.requests.length = 0;
        const key = requestKey(request);
        let reply = replies.get(key);
        if (reply === undefined) {
          const answer = await scenario.handler(request);
          // The same body object every time: fake-upstream.ts serialises it once.
          reply = { ...answer, delayMs: latencyMs + (answer.delayMs ?? 0) };
          if (replies.size >= 100_000) replies.clear();
          replies.set(key, reply);
        }
        return reply;
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
