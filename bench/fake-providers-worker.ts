// The main thread's side of the benchmarks' fake providers: starts them in a worker thread
// (fake-providers-thread.mjs), so their CPU is not the load generator's.
import { Worker } from 'node:worker_threads';
import type { FakeProvidersData } from './fake-providers.js';
import { sleep } from './report.js';

export interface FakeProvidersThread {
  /** One base URL per scenario, in SCENARIOS order. */
  urls: string[];
  /** Requests each scenario's fake has received so far, by the same index (read with Atomics). */
  counts: Int32Array;
  close(): Promise<void>;
}

export async function startFakeProvidersThread(latencyMs: number, scenarioCount: number): Promise<FakeProvidersThread> {
  const counters = new SharedArrayBuffer(4 * scenarioCount);
  const data: FakeProvidersData = { latencyMs, counters };
  const worker = new Worker(new URL('./fake-providers-thread.mjs', import.meta.url), { workerData: data });
  const urls = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake providers did not start')), 30_000);
    worker.once('error', reject);
    worker.once('message', (message: { urls: string[] }) => {
      clearTimeout(timer);
      resolve(message.urls);
    });
  });
  return {
    urls,
    counts: new Int32Array(counters),
    async close() {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await Promise.race([exited, sleep(5000).then(() => worker.terminate())]);
    },
  };
}
