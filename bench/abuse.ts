// `npm run bench:abuse`: the worst cases of the bounded-work issue against the built relay in its
// own process (dist/server.js, heap capped at HEAP_MB as `npm start` caps it), with a hostile fake
// OTX (test/helpers/hostile-otx.ts) and ordinary X-Force and CyberCrime Tracker fakes in a worker
// thread. For every scenario: whether the relay survived, its peak RSS, the answers' sizes and
// errors, upstream calls per request, /healthz latency (probed every 10 ms from another thread)
// and the throughput of normal requests (1-observable X-Force observes, sent from a thread of
// their own) while it ran, against their throughput alone just before it. Then, as a control, the
// scenario runs again with the normal requests sent to a second relay process that takes no part
// in it: what they lose there is what sharing the machine (its cores, with the fakes and the load
// generator) costs, not how the relay shares its own work. Figures are printed, not asserted. Flags:
//   --latency N   fake provider latency in ms (default 100)
//   --seconds N   length of the normal-load runs (default 5)
//   --only NAME   run the scenarios whose name contains NAME
//   --cpu-prof DIR  write a CPU profile of the relay process into DIR (node's --cpu-prof)
//   --no-control  skip the control runs (half the time)
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { xforceScenario, XFORCE_CREDENTIALS } from '../src/providers/xforce/test-support/scenario.js';
import { HOSTILE_OTX_KEY, distinctIps, type HostileOtxOptions } from '../test/helpers/hostile-otx.js';
import { TEST_SECRET, hs256Token } from '../test/helpers/tokens.js';
import type { AbuseFakesData } from './abuse-fakes.js';
import { startRelayProcess, type RelayProcess } from './relay-process.js';

const { values: flags } = parseArgs({
  options: {
    latency: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '5' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'no-control': { type: 'boolean', default: false },
  },
});
const latencyMs = Math.min(10_000, Math.max(0, Number(flags.latency) || 0));
const normalSeconds = Math.min(60, Math.max(1, Number(flags.seconds) || 5));
const HEAP_MB = Number(process.env.HEAP_MB ?? 256);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);

interface Scenario {
  name: string;
  otx?: HostileOtxOptions;
  /** Requests sent at once: path, body, and whose token. */
  requests: { path: string; body: unknown; token: 'otx' | 'otx-1000' | 'none' }[];
}

const otxRequests = (count: number, observables: number, token: 'otx' | 'otx-1000' = 'otx') =>
  Array.from({ length: count }, (_, index) => ({ path: '/otx/observe/observables', body: distinctIps(observables, index * observables), token }));

const SCENARIOS: Scenario[] = [
  { name: 'otx: 3 at once × 1000 IPs × 100 pulses', otx: { pulses: 100, entriesPerPage: 100 }, requests: otxRequests(3, 1000) },
  { name: 'otx: 300 IPs × 1000 pulses, entities limit 1000', otx: { pulses: 1000, entriesPerPage: 100 }, requests: otxRequests(1, 300, 'otx-1000') },
  { name: 'otx: 1000 IPs, endless pulse pages (max calls)', otx: { pulses: 60, entriesPerPage: 20 }, requests: otxRequests(1, 1000) },
  { name: 'otx: huge slow pages (2 MB, +2 s), 200 IPs × 20 pulses', otx: { pulses: 20, entriesPerPage: 10_000, delayMs: 2000 }, requests: otxRequests(1, 200) },
  {
    name: 'cybercrime-tracker: 5 at once × 1000 IPs, no token',
    requests: Array.from({ length: 5 }, () => ({ path: '/cybercrime-tracker/observe/observables', body: distinctIps(1000), token: 'none' as const })),
  },
  { name: 'flood: 40 OTX requests × 200 IPs at once', otx: { pulses: 50, entriesPerPage: 50 }, requests: otxRequests(40, 200) },
];

interface Fakes {
  urls: string[];
  calls(index: number): number;
  setOtx(options: HostileOtxOptions): Promise<void>;
  close(): Promise<void>;
}

async function startFakes(): Promise<Fakes> {
  const counters = new SharedArrayBuffer(4 * 3);
  const counts = new Int32Array(counters);
  const data: AbuseFakesData = { latencyMs, counters };
  const worker = new Worker(new URL('./abuse-fakes-thread.mjs', import.meta.url), { workerData: data });
  const urls = await new Promise<string[]>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { urls: string[] }) => resolve(message.urls));
  });
  return {
    urls,
    calls: (index) => Atomics.load(counts, index),
    setOtx: (options) =>
      new Promise((resolve) => {
        worker.once('message', () => resolve());
        worker.postMessage({ otx: options });
      }),
    async close() {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ close: true });
      await Promise.race([exited, sleep(5000).then(() => worker.terminate())]);
    },
  };
}

interface Probe {
  report(): Promise<{ count: number; failures: number; p50: number; p99: number; max: number }>;
  stop(): Promise<void>;
}

function startProbe(url: string): Probe {
  const worker = new Worker(new URL('./healthz-probe-thread.mjs', import.meta.url), { workerData: { url } });
  return {
    report: () =>
      new Promise((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('report');
      }),
    async stop() {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('stop');
      await Promise.race([exited, sleep(3000).then(() => worker.terminate())]);
    },
  };
}

/**
 * Normal requests per second: 1-observable X-Force observes, 10 connections, sent from a thread of
 * their own (autocannon's \`workers\`), so that this thread, which receives the scenarios' answers
 * of several megabytes, never holds them back: what is measured is how fast the relay serves them.
 */
async function normalLoad(relay: RelayProcess, headers: Record<string, string>, seconds: number): Promise<{ rps: number; errors: number }> {
  const result = await autocannon({
    url: `${relay.url}/xforce/observe/observables`,
    method: 'POST',
    headers,
    body: JSON.stringify(xforceScenario.observables(1)),
    connections: 10,
    duration: seconds,
    workers: 1,
  });
  return { rps: result.requests.average, errors: result.errors + result.timeouts + result.non2xx };
}

/** The relay's own event-loop delay p99 (ms) since the last scrape (prom-client resets it on every scrape). */
async function loopDelayP99(relay: RelayProcess): Promise<number> {
  try {
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    const match = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
    return match === null ? NaN : Number(match[1]) * 1000;
  } catch {
    return NaN;
  }
}

/** The answer's size and its error codes/messages, without parsing megabytes of data here. */
async function send(relay: RelayProcess, path: string, body: unknown, headers: Record<string, string>) {
  const started = performance.now();
  try {
    const response = await fetch(relay.url + path, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
    const text = await response.text();
    const ms = performance.now() - started;
    const at = text.lastIndexOf('"errors":[');
    let errors: { code: string; message: string }[] = [];
    if (at >= 0) {
      try {
        errors = JSON.parse(text.slice(at + '"errors":'.length, -1)) as typeof errors;
      } catch {
        errors = [{ code: '?', message: 'unparsable errors' }];
      }
    }
    return { ok: true, status: response.status, bytes: Buffer.byteLength(text), ms, errors, retryAfter: response.headers.get('retry-after') };
  } catch (error) {
    return { ok: false, status: 0, bytes: 0, ms: performance.now() - started, errors: [{ code: 'client', message: (error as Error).message }], retryAfter: null };
  }
}

const fakes = await startFakes();
const [otxUrl, xforceUrl, cctUrl] = fakes.urls as [string, string, string];
const env: Record<string, string> = {
  PROVIDERS: 'otx,xforce,cybercrime-tracker',
  SECRET_KEY: TEST_SECRET,
  RATE_LIMITS: 'off',
  OTX_API_URL: otxUrl.replace(/\/$/, ''),
  ...xforceScenario.envFor(xforceUrl),
  CYBERCRIME_TRACKER_URL: cctUrl,
  HEAP_MB: String(HEAP_MB),
};
const tokens = {
  otx: { 'content-type': 'application/json', authorization: `Bearer ${await hs256Token({ key: HOSTILE_OTX_KEY, provider: 'otx' })}` },
  'otx-1000': { 'content-type': 'application/json', authorization: `Bearer ${await hs256Token({ key: HOSTILE_OTX_KEY, provider: 'otx', CTR_ENTITIES_LIMIT: 1000 })}` },
  none: { 'content-type': 'application/json' },
};
const xforceHeaders = { 'content-type': 'application/json', authorization: `Bearer ${await hs256Token({ ...XFORCE_CREDENTIALS, provider: 'xforce' })}` };

console.log(`ctr-relay abuse benchmark: HEAP_MB ${HEAP_MB}, fake latency ${latencyMs} ms, Node ${process.version}`);
console.log('targets: no crash; /healthz p99 < 50 ms; peak RSS < HEAP_MB + 64 MiB; normal requests keep >= half their throughput\n');

const nodeArgs = flags['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof']}`];
let relay = await startRelayProcess(env, nodeArgs);
// The control: a second relay, as the first, that only ever serves normal requests.
const control = flags['no-control'] ? undefined : await startRelayProcess(env, nodeArgs);
// /healthz on an idle relay, then under the normal requests alone: what the scenarios add to.
const baselineProbe = startProbe(relay.url);
await sleep(200);
await baselineProbe.report();
await sleep(2000);
const idleHealth = await baselineProbe.report();
const baseline = await normalLoad(relay, xforceHeaders, normalSeconds);
const baselineHealth = await baselineProbe.report();
await baselineProbe.stop();
console.log(`idle relay: /healthz p99 ${idleHealth.p99.toFixed(1)} ms (max ${idleHealth.max.toFixed(1)})`);
console.log(`normal requests alone: ${baseline.rps.toFixed(0)} req/s (1-observable X-Force observe, 10 connections), /healthz p99 ${baselineHealth.p99.toFixed(1)} ms (max ${baselineHealth.max.toFixed(1)})\n`);

/** A scenario's figures with the normal requests sent to `served` (the relay under test, or the control). */
async function runScenario(scenario: Scenario, served: RelayProcess | undefined) {
  // Each run starts from a relay of its own: no cache or estimate from the run before.
  await relay.close();
  relay = await startRelayProcess(env, nodeArgs);
  const normalTarget = served ?? relay;
  // The machine's speed drifts over minutes (a shared VM): each run is compared with the normal
  // requests alone just before it.
  const alone = await normalLoad(normalTarget, xforceHeaders, normalSeconds);
  await sleep(500);
  const probe = startProbe(relay.url);
  await sleep(200);
  await probe.report();
  await loopDelayP99(relay);
  let peak = relay.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, relay.rss())), 50);
  const before = [fakes.calls(0), fakes.calls(2)];
  const started = performance.now();
  const normal = normalLoad(normalTarget, xforceHeaders, normalSeconds);
  const answers = await Promise.all(scenario.requests.map((request) => send(relay, request.path, request.body, tokens[request.token])));
  const load = await normal;
  const elapsed = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, relay.rss());
  const health = await probe.report();
  const loopP99 = await loopDelayP99(relay);
  await probe.stop();
  const alive = await fetch(`${relay.url}/healthz`).then(
    (response) => response.ok,
    () => false,
  );
  const calls = fakes.calls(0) - before[0]! + (fakes.calls(2) - before[1]!);
  const kept = `${load.rps.toFixed(0)} of ${alone.rps.toFixed(0)} (${((100 * load.rps) / Math.max(1, alone.rps)).toFixed(0)}%)${load.errors > 0 ? `, ${load.errors} failed` : ''}`;
  return { alive, peak, answers, calls, health, loopP99, kept, elapsed };
}

const rows: string[][] = [];
for (const scenario of SCENARIOS) {
  if (flags.only !== undefined && !scenario.name.includes(flags.only)) continue;
  if (scenario.otx !== undefined) await fakes.setOtx(scenario.otx);
  const run = await runScenario(scenario, undefined);
  const { answers, health } = run;
  const refused = answers.filter((answer) => answer.errors.some((error) => error.message.startsWith('Too many requests of this client') || error.message.startsWith('The relay is busy'))).length;
  const codes = [...new Set(answers.flatMap((answer) => answer.errors.map((error) => error.code)))];
  const biggest = Math.max(...answers.map((answer) => answer.bytes));
  const slowest = Math.max(...answers.map((answer) => answer.ms));
  for (const message of new Set(answers.flatMap((answer) => answer.errors.map((error) => error.message)))) console.log(`  ${scenario.name}: ${message}`);
  console.log(`  (${Math.round(run.elapsed)} ms, ${health.count} probes, ${health.failures} failed)`);
  await sleep(1000);
  const controlled = control === undefined ? undefined : await runScenario(scenario, control);
  rows.push([
    scenario.name,
    // The control run is the scenario again on a relay of its own: a crash there counts too.
    run.alive && controlled?.alive !== false ? 'yes' : 'NO (crashed)',
    mib(run.peak),
    `${mib(biggest)} MiB`,
    `${Math.round(slowest)} ms`,
    String(Math.round(run.calls / Math.max(1, scenario.requests.length - refused))),
    `${health.p99.toFixed(1)} / ${health.max.toFixed(1)} ms`,
    `${run.loopP99.toFixed(1)} ms`,
    run.kept,
    controlled === undefined ? '-' : controlled.kept,
    `${refused}/${scenario.requests.length}`,
    codes.join(', ') || '-',
  ]);
  await sleep(1000);
}

const headers = ['scenario', 'alive', 'peak RSS MiB', 'largest answer', 'slowest answer', 'calls/request', '/healthz p99 / max', 'relay loop delay p99', 'normal req/s (of alone just before)', 'control: on a relay not in the scenario', 'refused', 'error codes'];
const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
console.log('');
console.log(line(headers));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const row of rows) console.log(line(row));
console.log(`\nRSS target: < ${HEAP_MB + 64} MiB`);

await relay.close();
await control?.close();
await fakes.close();
