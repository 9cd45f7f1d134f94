// `npm run bench`: the built relay (dist/server.js, in its own process, as in production) against
// every module's fake provider (SCENARIOS, in a worker thread of this process: bench/fake-providers.ts)
// with a fixed latency, all on 127.0.0.1; the load generator runs in this process's main thread.
// Prints observe latency at 1, 20, 200 and 500 observables against the ideal (latency × the module's
// call depth), the upstream calls of each module's 20-observable comparison list against the
// original relay's count, three back-to-back Pulsedive requests under the default rate limit, the
// module issues' own figures, requests per second for refer and for observe with a cold and a warm
// cache, and the relay processes' peak RSS. Figures are shown, not asserted; every loop is bounded
// in count and time. docs/benchmark.md says what each figure means. Flags:
//   --latency N      fake provider latency in ms (default 100)
//   --seconds N      length of each autocannon run (default 3)
//   --connections N  autocannon connections (default 20)
//   --upstream-concurrency N  the relays' UPSTREAM_CONCURRENCY (default: the setting's default)
//   --throughput-only  only the requests-per-second table (and the mixed load)
//   --quick          fewer latency runs, 1 s autocannon runs, one refer/warm round instead of 3
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Observable } from '../src/core/observables.js';
import { coreSettingsSchema } from '../src/core/settings.js';
import type { ProviderScenario } from '../test/helpers/scenario.js';
import { SCENARIOS } from '../test/helpers/scenarios.js';
import { TEST_SECRET, hs256Token } from '../test/helpers/tokens.js';
import { startFakeProvidersThread } from './fake-providers-worker.js';
import { bareClientMs, roundsOf } from './floor.js';
import { startRelayProcess, type RelayProcess } from './relay-process.js';
import { median, round, sleep, table } from './report.js';

const { values: flags } = parseArgs({
  options: {
    latency: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' },
    'upstream-concurrency': { type: 'string' },
    quick: { type: 'boolean', default: false },
    'throughput-only': { type: 'boolean', default: false },
  },
});
const latencyMs = Math.min(10_000, Math.max(0, Number(flags.latency) || 0));
const runSeconds = flags.quick ? 1 : Math.min(60, Math.max(1, Number(flags.seconds) || 3));
const connections = Math.min(200, Math.max(1, Number(flags.connections) || 20));
const latencyRuns = flags.quick ? 3 : 7;
// Fewer runs of the large requests: 500 OTX observables are 8000 calls each.
const largeRuns = flags.quick ? 1 : 3;
const rounds = flags.quick ? 1 : 3;
const warmUpRuns = flags.quick ? 3 : 6;
const SIZES = [1, 20, 200, 500];
/** Sizes above this are "large": fewer runs, and their target needs no waves of OBSERVABLE_CONCURRENCY. */
const LARGE = 50;
// The module issues' own targets: that many observables within that many ms.
const ISSUE_FIGURES: Record<string, { observables: number; budgetMs: number; note: string }> = {
  xforce: { observables: 20, budgetMs: 250, note: '20 X-Force observables' },
  // 250 ms was set for one round trip; since `links` waits for `info` a known value takes two: 1.3 × 200 + 20.
  pulsedive: { observables: 20, budgetMs: 280, note: '20 Pulsedive observables (all known: info, then links)' },
  otx: { observables: 10, budgetMs: 500, note: '10 OTX observables, each in 5 pulses of 3 pages' },
};
// The relays' upstream concurrency per provider: the flag, or UPSTREAM_CONCURRENCY's default.
const upstreamConcurrency = Number(flags['upstream-concurrency'] ?? coreSettingsSchema.shape.UPSTREAM_CONCURRENCY.parse(undefined));
const WARM_OBSERVABLES = 100;
const COLD_OBSERVABLES = 2000;


interface Module {
  scenario: ProviderScenario;
  url: string;
  headers: Record<string, string>;
  /** Requests its fake has received so far. */
  calls(): number;
}

interface FakeProviders {
  modules: Module[];
  close(): Promise<void>;
}

async function startFakeProviders(): Promise<FakeProviders> {
  const { urls, counts, close } = await startFakeProvidersThread(latencyMs, SCENARIOS.length);
  const modules = await Promise.all(
    SCENARIOS.map(async (scenario, index) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (scenario.credentials !== null) headers.authorization = `Bearer ${await hs256Token({ ...scenario.credentials, provider: scenario.providerId })}`;
      return { scenario, url: urls[index]!, headers, calls: () => Atomics.load(counts, index) };
    }),
  );
  return { modules, close };
}

function relayEnv(modules: Module[]): Record<string, string> {
  const env: Record<string, string> = {
    PROVIDERS: modules.map(({ scenario }) => scenario.providerId).join(','),
    SECRET_KEY: TEST_SECRET,
    // The benchmark measures the relay, not the providers' quotas.
    RATE_LIMITS: 'off',
  };
  if (flags['upstream-concurrency'] !== undefined) env.UPSTREAM_CONCURRENCY = flags['upstream-concurrency'];
  for (const { scenario, url } of modules) Object.assign(env, scenario.envFor(url));
  return env;
}

/** Calls still in flight when a run ends reach the fake afterwards: wait until it is quiet (bounded). */
async function settled(module: Module): Promise<void> {
  for (let tries = 0, last = -1; tries < 40 && module.calls() !== last; tries += 1) {
    last = module.calls();
    await sleep(Math.max(100, latencyMs * 2));
  }
}

interface Observed {
  ms: number;
  upstreamCalls: number;
  errors: string[];
}

async function observe(relay: RelayProcess, module: Module, observables: Observable[]): Promise<Observed> {
  const before = module.calls();
  const started = performance.now();
  const answer = await relay.post(`/${module.scenario.providerId}/observe/observables`, observables, module.headers);
  // Until the whole answer has arrived: parsing 600 KB of JSON here is this process's time, not the relay's.
  const ms = answer.receivedAt - started;
  const errors = Array.isArray(answer.json?.errors) ? answer.json.errors.map((error: { code: string }) => error.code) : [];
  return { ms, upstreamCalls: module.calls() - before, errors };
}

async function observeRuns(
  relay: RelayProcess,
  module: Module,
  size: number,
  list: () => Observable[] = () => module.scenario.observables(size),
): Promise<{ ms: number; upstreamCalls: number; result: (target: number) => string }> {
  const runs: Observed[] = [];
  const count = size > LARGE ? largeRuns : latencyRuns;
  for (let run = 0; run < count; run += 1) runs.push(await observe(relay, module, list()));
  const ms = median(runs.map((run) => run.ms));
  const errors = [...new Set(runs.flatMap((run) => run.errors))];
  return { ms, upstreamCalls: runs[0]!.upstreamCalls, result: (target) => (errors.length > 0 ? `errors: ${errors.join(', ')}` : ms <= target ? 'pass' : 'FAIL') };
}

/** `relay` for the small sizes, `large` (a relay of its own, so its memory is told apart) above LARGE. */
async function latencyTable(relay: RelayProcess, large: RelayProcess, modules: Module[]): Promise<void> {
  console.log(
    `Observe latency, cold (CACHE=off), fake latency ${latencyMs} ms; median of ${latencyRuns} (of ${largeRuns} above ${LARGE} observables); target 1.3 × ideal + 20 ms`,
  );
  const rows: (string | number)[][] = [];
  // Every fake answers with the same latency; CyberCrime Tracker's answers any query.php call.
  const floorOrigin = new URL(modules.find(({ scenario }) => scenario.providerId === 'cybercrime-tracker')?.url ?? modules[0]!.url).origin;
  for (const module of modules) {
    const ideal = latencyMs * module.scenario.callDepth;
    const target = 1.3 * ideal + 20;
    // Warm-up: connections to the fake, and the JIT (the first lookups run unoptimised code).
    for (let run = 0; run < warmUpRuns; run += 1) await observe(relay, module, module.scenario.observables(50));
    for (let run = 0; run < Math.ceil(warmUpRuns / 2); run += 1) await observe(large, module, module.scenario.observables(200));
    for (const size of SIZES) {
      const figures = await observeRuns(size > LARGE ? large : relay, module, size);
      const rounds = roundsOf(module.scenario.providerId, module.scenario.callDepth, size, figures.upstreamCalls);
      const floor = await bareClientMs(floorOrigin, rounds, upstreamConcurrency, size > LARGE ? largeRuns : 5);
      rows.push([
        module.scenario.providerId,
        size,
        module.scenario.callDepth,
        ideal,
        round(target),
        round(figures.ms),
        (figures.ms / Math.max(1, ideal)).toFixed(2),
        `${round(floor)}${floor > target ? ' (> target)' : ''}`,
        figures.upstreamCalls,
        (figures.upstreamCalls / size).toFixed(1),
        figures.result(target),
      ]);
    }
  }
  table(['module', 'observables', 'call depth', 'ideal ms', 'target ms', 'observed ms', '× ideal', 'bare client ms', 'upstream calls', 'calls/obs.', 'result'], rows);
  console.log(
    `  bare client ms: the floor on this machine. A bare undici client in a process of its own makes the same calls in the same rounds, at most ${upstreamConcurrency} at once (UPSTREAM_CONCURRENCY), to one fake of the same latency, and does nothing else (bench/floor.ts). No relay answers faster than this; a target below it cannot be met here.\n`,
  );
}

/** Each module's 20-observable comparison list: latency, and upstream calls against the original relay's. */
async function comparisonTable(relay: RelayProcess, modules: Module[]): Promise<void> {
  console.log(`Upstream calls per request against the original relay's, on each module's 20-observable comparison list (cold, fake latency ${latencyMs} ms; target: calls ≤ the original's)`);
  const rows: (string | number)[][] = [];
  for (const module of modules) {
    const { comparison } = module.scenario;
    const list = comparison.observables(0);
    const figures = await observeRuns(relay, module, list.length, () => list);
    const result = figures.upstreamCalls <= comparison.originalCalls ? 'pass' : 'FAIL';
    rows.push([module.scenario.providerId, list.length, round(figures.ms), figures.upstreamCalls, comparison.originalCalls, (figures.upstreamCalls / list.length).toFixed(2), result]);
  }
  table(['module', 'observables', 'observed ms', 'upstream calls', 'original calls', 'calls/obs.', 'result'], rows);
  for (const module of modules) console.log(`  ${module.scenario.providerId}: ${module.scenario.comparison.makeup}`);
  console.log('');
}

/**
 * Three back-to-back Pulsedive requests of 20 distinct observables (the comparison list's makeup)
 * under the default rate limit (60 a minute per key), as a free-tier user would send them.
 */
async function pulsediveQuota(modules: Module[]): Promise<void> {
  const module = modules.find(({ scenario }) => scenario.providerId === 'pulsedive');
  if (module === undefined) return;
  // The defaults: rate limits on, cache on; only this module, so the other fakes are not involved.
  const relay = await startRelayProcess({ ...relayEnv([module]), RATE_LIMITS: 'on' });
  try {
    const known = 8;
    console.log(`Pulsedive, three back-to-back requests of 20 distinct observables (${known} known, 12 unknown) under the default rate limit (60/60 per key, RATE_LIMIT_MAX_WAIT_MS default), fake latency ${latencyMs} ms`);
    const rows: (string | number)[][] = [];
    for (let request = 0; request < 3; request += 1) {
      const before = module.calls();
      const started = performance.now();
      // Rounds far from the comparison table's, so nothing is met again.
      const answer = await relay.post('/pulsedive/observe/observables', module.scenario.comparison.observables(100 + request), module.headers);
      const ms = answer.receivedAt - started;
      const errors = Array.isArray(answer.json?.errors) ? answer.json.errors.map((error: { code: string }) => error.code).join(', ') : '';
      const verdicts = answer.json?.data?.verdicts?.count ?? 0;
      rows.push([request + 1, round(ms), module.calls() - before, `${verdicts} of ${known}`, errors === '' ? '-' : errors, answer.retryAfter ?? '-']);
    }
    table(['request', 'ms', 'upstream calls', 'known values answered', 'errors', 'Retry-After'], rows);
  } finally {
    await relay.close();
  }
}

async function issueFigures(relay: RelayProcess, modules: Module[]): Promise<void> {
  console.log(`The module issues' figures (fake latency ${latencyMs} ms, cold)`);
  const rows: (string | number)[][] = [];
  for (const [id, figure] of Object.entries(ISSUE_FIGURES)) {
    const module = modules.find(({ scenario }) => scenario.providerId === id);
    if (module === undefined) {
      rows.push([figure.note, `< ${figure.budgetMs}`, '-', '-', 'not in SCENARIOS yet']);
      continue;
    }
    const figures = await observeRuns(relay, module, figure.observables);
    rows.push([figure.note, `< ${figure.budgetMs}`, round(figures.ms), figures.upstreamCalls, figures.result(figure.budgetMs)]);
  }
  table(['case', 'budget ms', 'observed ms', 'upstream calls', 'result'], rows);
}

/** One request per observable, cycling through `count` distinct ones of the module. */
function cyclingRequest(module: Module, endpoint: string, count: number, onBody?: (body: string) => void, start = 0): autocannon.Request {
  const bodies = module.scenario.observables(count).map((observable) => JSON.stringify([observable]));
  let next = start;
  return {
    method: 'POST',
    path: `/${module.scenario.providerId}/${endpoint}/observables`,
    headers: module.headers,
    setupRequest: (request) => {
      request.body = bodies[next % bodies.length]!;
      next += 1;
      return request;
    },
    ...(onBody === undefined ? {} : { onResponse: (_status: number, body: string) => onBody(body) }),
  };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  answersWithErrors: number;
  upstreamCalls: number;
}

async function load(relay: RelayProcess, module: Module, endpoint: string, count: number): Promise<Load> {
  let answersWithErrors = 0;
  // A short unmeasured run first, so the JIT has compiled this endpoint's path.
  await autocannon({ url: relay.url, connections, amount: connections * 10, requests: [cyclingRequest(module, endpoint, count)] });
  await settled(module);
  const before = module.calls();
  const result = await autocannon({
    url: relay.url,
    connections,
    duration: runSeconds,
    // Offset past the warm-up's values, so a cold run does not meet them again.
    requests: [cyclingRequest(module, endpoint, count, (body) => void (body.includes('"errors"') && (answersWithErrors += 1)), connections * 10)],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, answersWithErrors, upstreamCalls: module.calls() - before };
}

/** The run with the median requests per second. */
function medianRun(runs: Load[]): Load {
  return [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
}

const sum = (runs: Load[], field: 'upstreamCalls' | 'answersWithErrors') => runs.reduce((total, run) => total + run[field], 0);

async function throughputTable(cold: RelayProcess, warm: RelayProcess, modules: Module[]): Promise<void> {
  console.log(
    `Requests per second (autocannon, ${connections} connections, ${runSeconds} s each, loopback; refer and warm: median of ${rounds} alternating runs); target warm ≥ 0.5 × refer with 0 upstream calls`,
  );
  const rows: (string | number)[][] = [];
  for (const module of modules) {
    // Fill the warm relay's cache first, so the measured run finds every answer there.
    for (const observable of module.scenario.observables(WARM_OBSERVABLES)) await warm.post(`/${module.scenario.providerId}/observe/observables`, [observable], module.headers);
    // Refer and warm observe alternate, `rounds` times each, and the medians are compared: this
    // VM's speed drifts by tens of percent over seconds, which one run of each would take for a result.
    const referRuns: Load[] = [];
    const warmRuns: Load[] = [];
    for (let round = 0; round < rounds; round += 1) {
      referRuns.push(await load(cold, module, 'refer', WARM_OBSERVABLES));
      warmRuns.push(await load(warm, module, 'observe', WARM_OBSERVABLES));
    }
    const refer = medianRun(referRuns);
    const warmObserve = { ...medianRun(warmRuns), upstreamCalls: sum(warmRuns, 'upstreamCalls'), answersWithErrors: sum(warmRuns, 'answersWithErrors') };
    const coldObserve = await load(cold, module, 'observe', COLD_OBSERVABLES);
    const ratio = warmObserve.rps / Math.max(1, refer.rps);
    const verdict = warmObserve.upstreamCalls === 0 && ratio >= 0.5 ? 'pass' : 'FAIL';
    const runs: [string, Load, string][] = [
      ['refer', refer, ''],
      ['observe cold (CACHE=off)', coldObserve, ''],
      ['observe warm', warmObserve, `${verdict} (${ratio.toFixed(2)} × refer)`],
    ];
    for (const [name, figures, result] of runs) {
      rows.push([module.scenario.providerId, name, round(figures.rps), figures.p50, figures.p99, figures.upstreamCalls, figures.answersWithErrors, result]);
    }
  }
  table(['module', 'run', 'req/s', 'p50 ms', 'p99 ms', 'upstream calls', 'answers with errors', 'result'], rows);
}

/** Load on every module at once (distinct values that fill the cache, then warm ones), for memory. */
async function mixedLoad(relay: RelayProcess, modules: Module[]): Promise<void> {
  await autocannon({ url: relay.url, connections, duration: runSeconds * 2, requests: modules.map((module) => cyclingRequest(module, 'observe', COLD_OBSERVABLES)) });
  await autocannon({ url: relay.url, connections, duration: runSeconds, requests: modules.map((module) => cyclingRequest(module, 'observe', WARM_OBSERVABLES)) });
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const cpu = cpus();
  console.log(`ctr-relay benchmark: Node ${process.version}, ${platform()} ${release()} ${arch()}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${round(totalmem() / 1024 ** 3)} GB RAM`);
  console.log(`modules: ${SCENARIOS.map((scenario) => scenario.providerId).join(', ')}; the built relay in its own process, fake providers in a worker thread, load generator in the main thread\n`);

  const fakes = await startFakeProviders();
  const { modules } = fakes;
  const relays: RelayProcess[] = [];
  try {
    const cold = await startRelayProcess({ ...relayEnv(modules), CACHE: 'off' });
    relays.push(cold);
    const warm = await startRelayProcess({ ...relayEnv(modules), CACHE: 'on' });
    relays.push(warm);
    const large = await startRelayProcess({ ...relayEnv(modules), CACHE: 'off' });
    relays.push(large);
    if (!flags['throughput-only']) {
      await latencyTable(cold, large, modules);
      await comparisonTable(cold, modules);
      await pulsediveQuota(modules);
      await issueFigures(cold, modules);
    }
    await throughputTable(cold, warm, modules);
    await mixedLoad(warm, modules);
    const peaks = [cold, warm].map((relay) => round(relay.peakRss() / 1024 ** 2));
    const worst = Math.max(...peaks);
    console.log(`Peak RSS of the relay processes over all runs: ${peaks[0]} MB (CACHE=off), ${peaks[1]} MB (CACHE=on, its cache filled by every module) (target < 150 MB): ${worst < 150 ? 'pass' : 'FAIL'}`);
    console.log(`Peak RSS of the relay that answered the 200- and 500-observable requests (CACHE=off): ${round(large.peakRss() / 1024 ** 2)} MB (shown, no target)`);
    console.log(`Whole benchmark: ${round((performance.now() - benchStarted) / 1000)} s`);
  } finally {
    await Promise.all(relays.map((relay) => relay.close()));
    await fakes.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
