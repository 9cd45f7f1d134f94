// `npm run bench:enrich`: POST /enrich/observables on the built relay (dist/server.js, its own
// process) across all five providers' fakes (bench/fake-providers.ts, a worker thread) at a fixed
// latency, all on 127.0.0.1. Prints
//   - the latency of enriching 1, 10 and 100 observables, cold (CACHE=off), against the slowest
//     provider's ideal (latency × its call depth × the rounds OBSERVABLE_CONCURRENCY allows);
//     target 1.3 × ideal + 20 ms;
//     beside it, the same work through the relay API (every module's observe and refer at once);
//   - warm-cache throughput (CACHE=on, every answer cached): one observable per request, with
//     autocannon; no upstream call is expected.
// Figures are shown, not asserted; every loop is bounded. Flags:
//   --latency N                 fake provider latency in ms (default 100)
//   --seconds N                 length of the autocannon run (default 5)
//   --connections N             autocannon connections (default 20)
//   --observable-concurrency N  the relay's OBSERVABLE_CONCURRENCY (default 100, so 100 observables are one round)
//   --quick                     3 latency runs instead of 7, a 1 s autocannon run
import { readFileSync } from 'node:fs';
import { arch, cpus, platform, release } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Observable } from '../src/core/observables.js';
import { otxScenario } from '../src/providers/otx/test-support/scenario.js';
import { SCENARIOS } from '../test/helpers/scenarios.js';
import { TEST_SECRET, hs256Token, moduleToken } from '../test/helpers/tokens.js';
import { startFakeProvidersThread } from './fake-providers-worker.js';
import { startRelayProcess, type RelayProcess } from './relay-process.js';
import { median, round, sleep, table } from './report.js';

const { values: flags } = parseArgs({
  options: {
    latency: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '20' },
    'observable-concurrency': { type: 'string', default: '100' },
    quick: { type: 'boolean', default: false },
  },
});
const latencyMs = Math.min(10_000, Math.max(0, Number(flags.latency) || 0));
const runSeconds = flags.quick ? 1 : Math.min(60, Math.max(1, Number(flags.seconds) || 5));
const connections = Math.min(200, Math.max(1, Number(flags.connections) || 20));
const observableConcurrency = Math.min(10_000, Math.max(1, Number(flags['observable-concurrency']) || 100));
const latencyRuns = flags.quick ? 3 : 7;
const SIZES = [1, 10, 100];
const WARM_OBSERVABLES = 100;

/** The process's CPU time so far in ms (Linux /proc; 0 elsewhere). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}


interface FakeProviders {
  urls: string[];
  /** Upstream requests all fakes have received so far. */
  calls(): number;
  close(): Promise<void>;
}

async function startFakeProviders(): Promise<FakeProviders> {
  const { urls, counts, close } = await startFakeProvidersThread(latencyMs, SCENARIOS.length);
  return { urls, calls: () => SCENARIOS.reduce((total, _, index) => total + Atomics.load(counts, index), 0), close };
}

function relayEnv(urls: string[]): Record<string, string> {
  const env: Record<string, string> = {
    PROVIDERS: SCENARIOS.map((scenario) => scenario.providerId).join(','),
    SECRET_KEY: TEST_SECRET,
    RATE_LIMITS: 'off',
    OBSERVABLE_CONCURRENCY: String(observableConcurrency),
  };
  SCENARIOS.forEach((scenario, index) => Object.assign(env, scenario.envFor(urls[index]!)));
  return env;
}

/** One token with every provider's credentials under its id. */
async function enrichHeaders(): Promise<Record<string, string>> {
  const payload: Record<string, unknown> = {};
  for (const scenario of SCENARIOS) if (scenario.credentials !== null) payload[scenario.providerId] = scenario.credentials;
  return { 'content-type': 'application/json', authorization: `Bearer ${await hs256Token(payload)}` };
}

// OTX is the deepest provider (general → pulses → pages) and its fake knows these observables of
// every type, so every provider that supports a type does its full work for each.
const observablesOf = (count: number, offset = 0): Observable[] => otxScenario.observables(offset + count).slice(offset);
const slowestDepth = Math.max(...SCENARIOS.map((scenario) => scenario.callDepth));

interface Run {
  ms: number;
  upstreamCalls: number;
  problems: string[];
}

async function enrichOnce(relay: RelayProcess, fakes: FakeProviders, headers: Record<string, string>, observables: Observable[], query = ''): Promise<Run> {
  const before = fakes.calls();
  const started = performance.now();
  const answer = await relay.post(`/enrich/observables${query}`, observables, headers);
  const ms = answer.receivedAt - started;
  const problems = new Set<string>();
  if (Array.isArray(answer.json?.errors)) for (const error of answer.json.errors) problems.add(error.code);
  for (const observable of answer.json?.data?.observables ?? []) {
    for (const provider of observable.providers) if (provider.status !== 'ok') problems.add(`${provider.id} ${provider.status}: ${provider.error?.code ?? provider.reason}`);
  }
  return { ms, upstreamCalls: fakes.calls() - before, problems: [...problems] };
}

/**
 * The same work through the relay API: every provider's observe and refer for the observables it
 * supports, all requests at once, as a client fanning out by itself would. Under the same load as
 * the enrichment beside it, so the difference is what the enrichment adds.
 */
async function relayApiOnce(relay: RelayProcess, headersById: Map<string, Record<string, string>>, observables: Observable[]): Promise<number> {
  const started = performance.now();
  const finished = await Promise.all(
    [...PROVIDER_TYPES.entries()].flatMap(([id, types]) => {
      const mine = observables.filter((observable) => types.includes(observable.type));
      if (mine.length === 0) return [];
      const headers = headersById.get(id) ?? { 'content-type': 'application/json' };
      return ['observe', 'refer'].map(async (endpoint) => (await relay.post(`/${id}/${endpoint}/observables`, mine, headers)).receivedAt);
    }),
  );
  return Math.max(...finished) - started;
}

async function moduleHeaders(): Promise<Map<string, Record<string, string>>> {
  const headers = new Map<string, Record<string, string>>();
  for (const scenario of SCENARIOS) {
    const each: Record<string, string> = { 'content-type': 'application/json' };
    if (scenario.credentials !== null) each.authorization = `Bearer ${await moduleToken(scenario.providerId, scenario.credentials)}`;
    headers.set(scenario.providerId, each);
  }
  return headers;
}

async function latencyTable(relay: RelayProcess, fakes: FakeProviders, headers: Record<string, string>): Promise<void> {
  console.log(
    `Enrichment latency, cold (CACHE=off), all ${SCENARIOS.length} providers, fake latency ${latencyMs} ms, OBSERVABLE_CONCURRENCY=${observableConcurrency}; ` +
      `median of ${latencyRuns}; target 1.3 × ideal + 20 ms`,
  );
  const headersById = await moduleHeaders();
  // Warm-up: connections to the fakes and the JIT.
  for (let run = 0; run < 3; run += 1) {
    await enrichOnce(relay, fakes, headers, observablesOf(50, 10_000 + run * 50));
    await relayApiOnce(relay, headersById, observablesOf(50, 20_000 + run * 50));
  }
  const rows: (string | number)[][] = [];
  for (const size of SIZES) {
    const rounds = Math.ceil(size / observableConcurrency);
    const ideal = latencyMs * slowestDepth * rounds;
    const target = 1.3 * ideal + 20;
    const runs: Run[] = [];
    const lean: Run[] = [];
    const direct: number[] = [];
    const enrichCpu: number[] = [];
    const directCpu: number[] = [];
    const measured = async <T>(cpu: number[], work: () => Promise<T>): Promise<T> => {
      const before = cpuMs(relay.pid);
      const result = await work();
      cpu.push(cpuMs(relay.pid) - before);
      return result;
    };
    // Alternating, so the VM's drift hits all three alike; distinct observables every time (CACHE=off anyway).
    for (let run = 0; run < latencyRuns; run += 1) {
      runs.push(await measured(enrichCpu, () => enrichOnce(relay, fakes, headers, observablesOf(size, 3 * run * size))));
      lean.push(await enrichOnce(relay, fakes, headers, observablesOf(size, (3 * run + 1) * size), '?ctim=false'));
      direct.push(await measured(directCpu, () => relayApiOnce(relay, headersById, observablesOf(size, (3 * run + 2) * size))));
    }
    const ms = median(runs.map((run) => run.ms));
    const leanMs = median(lean.map((run) => run.ms));
    const directMs = median(direct);
    const problems = [...new Set([...runs, ...lean].flatMap((run) => run.problems))];
    const result = problems.length > 0 ? `problems: ${problems.slice(0, 3).join('; ')}` : ms <= target ? 'pass' : 'FAIL';
    const cpu = `${round(median(enrichCpu))} / ${round(median(directCpu))}`;
    rows.push([size, slowestDepth, ideal, round(target), round(ms), round(leanMs), round(directMs), cpu, runs[0]!.upstreamCalls, result]);
  }
  table(
    ['observables', 'slowest call depth', 'ideal ms', 'target ms', 'observed ms', 'with ctim=false', 'relay API, same work', 'relay CPU ms (enrich / API)', 'upstream calls', 'result'],
    rows,
  );
}

async function warmThroughput(relay: RelayProcess, fakes: FakeProviders, headers: Record<string, string>): Promise<void> {
  const observables = observablesOf(WARM_OBSERVABLES, 50_000);
  // Fill the cache: every provider's answers for every observable.
  for (let start = 0; start < observables.length; start += 10) await enrichOnce(relay, fakes, headers, observables.slice(start, start + 10));
  const bodies = observables.map((observable) => JSON.stringify([observable]));
  const request = (start: number, onBody?: (body: string) => void): autocannon.Request => {
    let next = start;
    return {
      method: 'POST',
      path: '/enrich/observables',
      headers,
      setupRequest: (each) => {
        each.body = bodies[next % bodies.length]!;
        next += 1;
        return each;
      },
      ...(onBody === undefined ? {} : { onResponse: (_status: number, body: string) => onBody(body) }),
    };
  };
  await autocannon({ url: relay.url, connections, amount: connections * 10, requests: [request(0)] });
  await sleep(Math.max(200, latencyMs * 4));
  const before = fakes.calls();
  let problems = 0;
  const result = await autocannon({
    url: relay.url,
    connections,
    duration: runSeconds,
    requests: [request(7, (body) => void ((body.includes('"status":"error"') || body.includes('"errors"')) && (problems += 1)))],
  });
  const upstreamCalls = fakes.calls() - before;
  console.log(`Warm-cache throughput (CACHE=on, ${WARM_OBSERVABLES} observables cached, one per request, all providers; autocannon, ${connections} connections, ${runSeconds} s)`);
  // Providers per observable differ by type (email: OTX only): the provider results one cycle of the bodies asks for.
  const perObservable = observables.reduce((total, observable) => total + supporting(observable), 0) / observables.length;
  const rps = result.requests.average;
  table(
    ['req/s (one observable each)', 'provider results/s', 'p50 ms', 'p99 ms', 'upstream calls', 'answers with errors'],
    [[round(rps), round(rps * perObservable), result.latency.p50, result.latency.p99, upstreamCalls, problems]],
  );
}

const PROVIDER_TYPES = new Map<string, readonly string[]>();
function supporting(observable: Observable): number {
  return [...PROVIDER_TYPES.values()].filter((types) => types.includes(observable.type)).length;
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(`ctr-relay enrichment benchmark: Node ${process.version}, ${platform()} ${release()} ${arch()}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}\n`);
  const fakes = await startFakeProviders();
  const relays: RelayProcess[] = [];
  try {
    const headers = await enrichHeaders();
    const cold = await startRelayProcess({ ...relayEnv(fakes.urls), CACHE: 'off' });
    relays.push(cold);
    const providers = (await fetch(`${cold.url}/enrich/providers`).then((response) => response.json())) as { data: { id: string; supported_types: string[] }[] };
    for (const provider of providers.data) PROVIDER_TYPES.set(provider.id, provider.supported_types);
    await latencyTable(cold, fakes, headers);
    const warm = await startRelayProcess({ ...relayEnv(fakes.urls), CACHE: 'on' });
    relays.push(warm);
    await warmThroughput(warm, fakes, headers);
    console.log(`Peak RSS: ${round(cold.peakRss() / 1024 ** 2)} MB (CACHE=off), ${round(warm.peakRss() / 1024 ** 2)} MB (CACHE=on)`);
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
