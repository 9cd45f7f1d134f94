// Asks the relay's /healthz every 10 ms from its own thread (so the benchmark's own work never
// delays a probe) and reports the latencies it saw since the last report.
import { parentPort, workerData } from 'node:worker_threads';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

const { url } = workerData;
let samples = [];
let failures = 0;
let running = true;

function probe() {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(`${url}/healthz`, { agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) samples.push(performance.now() - started);
        else failures += 1;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      failures += 1;
      resolve();
    });
    req.end();
  });
}

parentPort.on('message', (message) => {
  if (message === 'report') {
    const sorted = [...samples].sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    parentPort.postMessage({ count: sorted.length, failures, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 });
    samples = [];
    failures = 0;
  } else if (message === 'stop') {
    running = false;
  }
});

while (running) {
  await probe();
  await new Promise((resolve) => setTimeout(resolve, 10));
}
process.exit(0);
