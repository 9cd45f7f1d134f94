// `npm run bench:load`: a steady rate of mixed requests (every module, observe/deliberate/refer)
// against the relay as its own process, fake providers with latency on 127.0.0.1, then a longer
// soak sampling the relay's memory. Loopback only; bounded in time. Flags:
//   --rate N (requests/s, default 100)  --seconds N (steady run, default 60)
//   --soak-seconds N (default 180)  --latency N (fake latency ms, default 50)  --quick (10 s + 30 s)
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startFakeUpstream, type FakeReply } from '../test/helpers/fake-upstream.js';
import { SCENARIOS } from '../test/helpers/scenarios.js';
import { TEST_SECRET, hs256Token } from '../test/helpers/tokens.js';
import { startRelayProcess } from './relay-process.js';

const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '60' },
    'soak-seconds': { type: 'string', default: '180' },
    latency: { type: 'string', default: '50' },
    quick: { type: 'boolean', default: false },
  },
});
const rate = Number(flags.rate);
const steadySeconds = flags.quick ? 10 : Number(flags.seconds);
const soakSeconds = flags.quick ? 30 : Number(flags['soak-seconds']);
const latency = Number(flags.latency);

const fakes = await Promise.all(
  SCENARIOS.map((scenario) => startFakeUpstream(async (request) => ({ ...((await scenario.handler(request)) as FakeReply), delayMs: latency }))),
);
const env: Record<string, string> = { SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'warn', CACHE: 'off', RATE_LIMITS: 'off' };
SCENARIOS.forEach((scenario, index) => Object.assign(env, scenario.envFor(fakes[index]!.url)));
env.PROVIDERS = SCENARIOS.map((scenario) => scenario.providerId).join(',');

// The built server, as in production (npm run bench:load builds first).
const relay = await startRelayProcess(env);

const endpoints = ['observe/observables', 'deliberate/observables', 'refer/observables'];
const requests = await Promise.all(
  SCENARIOS.flatMap((scenario) =>
    endpoints.map(async (endpoint) => ({
      method: 'POST' as const,
      path: `/${scenario.providerId}/${endpoint}`,
      headers: {
        'content-type': 'application/json',
        ...(scenario.credentials === null ? {} : { authorization: `Bearer ${await hs256Token({ ...scenario.credentials, provider: scenario.providerId })}` }),
      },
      body: JSON.stringify(scenario.observables(3)),
    })),
  ),
);

let bodyErrors = 0;
async function run(seconds: number) {
  return autocannon({
    url: relay.url,
    connections: 20,
    overallRate: rate,
    duration: seconds,
    requests: requests.map((request) => ({
      ...request,
      onResponse: (_status: number, body: string) => {
        if (body.includes('"errors"')) bodyErrors += 1;
      },
    })),
  });
}

const samples: number[] = [];
const sampler = setInterval(() => samples.push(relay.rss() / 1024 ** 2), 1000);
const steady = await run(steadySeconds);
const steadySamples = samples.length;
const soak = await run(soakSeconds);
clearInterval(sampler);
await relay.close();
await Promise.all(fakes.map((fake) => fake.close()));

const soakRss = samples.slice(steadySamples);
const third = Math.max(1, Math.floor(soakRss.length / 3));
const average = (list: number[]) => list.reduce((sum, value) => sum + value, 0) / Math.max(1, list.length);
const firstThird = average(soakRss.slice(0, third));
const lastThird = average(soakRss.slice(-third));
const table = [
  ['steady run', `${steadySeconds} s at ${rate} req/s`, `${steady.requests.total} requests`, `p50 ${steady.latency.p50} ms`, `p99 ${steady.latency.p99} ms`, `non-2xx ${steady.non2xx}`, `errors ${steady.errors + steady.timeouts}`],
  ['soak run', `${soakSeconds} s at ${rate} req/s`, `${soak.requests.total} requests`, `p50 ${soak.latency.p50} ms`, `p99 ${soak.latency.p99} ms`, `non-2xx ${soak.non2xx}`, `errors ${soak.errors + soak.timeouts}`],
];
console.log(`\nLoad: ${SCENARIOS.length} modules, observe/deliberate/refer of 3 observables, fake latency ${latency} ms, loopback\n`);
for (const row of table) console.log(row.join(' | '));
console.log(`answers with errors: ${bodyErrors}`);
console.log(`relay RSS: peak ${(relay.peakRss() / 1024 ** 2).toFixed(1)} MB; soak first third ${firstThird.toFixed(1)} MB, last third ${lastThird.toFixed(1)} MB (${(lastThird - firstThird).toFixed(1)} MB drift)`);
const clean = steady.non2xx + soak.non2xx + steady.errors + soak.errors + bodyErrors === 0;
console.log(clean ? 'zero errors' : 'ERRORS seen');
process.exit(0);
