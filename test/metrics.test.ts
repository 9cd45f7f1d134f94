// GET /metrics: Prometheus text whose counters follow the requests and upstream calls made,
// one registry per app, and optional bearer protection with METRICS_TOKEN.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PROVIDERS } from '../src/providers/registry.js';
import { echoProvider } from './helpers/echo-provider.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with that name and (at least) those labels; 0 when absent. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  assert.ok(found.length <= 1, `one ${name} sample for ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

async function scrape(relay: RunningRelay, headers: Record<string, string> = {}): Promise<Sample[]> {
  const response = await fetch(`${relay.url}/metrics`, { headers });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text());
}

const cybercrime = SCENARIOS.find((scenario) => scenario.providerId === 'cybercrime-tracker')!;
const observable = cybercrime.observables(1)[0]!;

describe('GET /metrics', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  let token: string;
  before(async () => {
    fake = await startFakeUpstream(cybercrime.handler);
    relay = await startRelay(
      // Without the cache, every lookup is an upstream call to count.
      { PROVIDERS: 'cybercrime-tracker,echo', SECRET_KEY: TEST_SECRET, CACHE: 'off', ...cybercrime.envFor(fake.url) },
      { providers: [...PROVIDERS, echoProvider] },
    );
    token = await hs256Token({ key: 'k', provider: 'echo' });
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });

  test('counts requests by module, endpoint and outcome, with a latency histogram', async () => {
    const start = await scrape(relay);
    const ok = { module: 'cybercrime-tracker', endpoint: 'observe', outcome: 'ok' };
    const countBefore = valueOf(start, 'ctr_relay_requests_total', ok);
    for (let call = 0; call < 2; call += 1) {
      const answer = await relay.post('/cybercrime-tracker/observe/observables', [observable]);
      assert.equal(answer.json.errors, undefined);
    }
    const samples = await scrape(relay);
    assert.equal(valueOf(samples, 'ctr_relay_requests_total', ok) - countBefore, 2);
    assert.equal(valueOf(samples, 'ctr_relay_request_duration_seconds_count', ok) - valueOf(start, 'ctr_relay_request_duration_seconds_count', ok), 2);
    assert.ok(valueOf(samples, 'ctr_relay_request_duration_seconds_bucket', { ...ok, le: '+Inf' }) >= 2);
    assert.ok(valueOf(samples, 'ctr_relay_observables_total', { module: 'cybercrime-tracker', endpoint: 'observe' }) >= 2);
  });

  test('counts upstream calls by provider, call and status, failures included', async () => {
    const status200 = { provider: 'cybercrime-tracker', call: 'query', status: '200' };
    const status500 = { provider: 'cybercrime-tracker', call: 'query', status: '500' };
    const start = await scrape(relay);
    await relay.post('/cybercrime-tracker/deliberate/observables', [observable]);
    fake.setHandler(() => ({ status: 500, body: 'broken' }));
    try {
      const failed = await relay.post('/cybercrime-tracker/observe/observables', [observable]);
      assert.equal(failed.json.errors[0].code, 'service unavailable');
    } finally {
      fake.setHandler(cybercrime.handler);
    }
    const samples = await scrape(relay);
    assert.equal(valueOf(samples, 'ctr_relay_upstream_calls_total', status200) - valueOf(start, 'ctr_relay_upstream_calls_total', status200), 1);
    assert.equal(valueOf(samples, 'ctr_relay_upstream_calls_total', status500) - valueOf(start, 'ctr_relay_upstream_calls_total', status500), 1);
    // The 500 is a failed call, by cause; the 200 is not.
    const failedHttp = { provider: 'cybercrime-tracker', call: 'query', cause: 'http' };
    assert.equal(valueOf(samples, 'ctr_relay_upstream_failures_total', failedHttp) - valueOf(start, 'ctr_relay_upstream_failures_total', failedHttp), 1);
    assert.ok(valueOf(samples, 'ctr_relay_upstream_call_duration_seconds_count', { provider: 'cybercrime-tracker', call: 'query' }) >= 2);
    const unavailable = { module: 'cybercrime-tracker', endpoint: 'observe', outcome: 'service unavailable' };
    assert.equal(valueOf(samples, 'ctr_relay_requests_total', unavailable) - valueOf(start, 'ctr_relay_requests_total', unavailable), 1);
  });

  test('a call that got no answer is labelled with its cause, not with the error code', async () => {
    // The fake drops the connection: `reset`, where it used to be `service unavailable` like a time-out.
    const reset = { provider: 'cybercrime-tracker', call: 'query', status: 'reset' };
    const start = await scrape(relay);
    fake.setHandler(() => ({ action: 'reset' }));
    try {
      const failed = await relay.post('/cybercrime-tracker/observe/observables', [observable]);
      assert.equal(failed.json.errors[0].code, 'service unavailable');
    } finally {
      fake.setHandler(cybercrime.handler);
    }
    const samples = await scrape(relay);
    assert.equal(valueOf(samples, 'ctr_relay_upstream_calls_total', reset) - valueOf(start, 'ctr_relay_upstream_calls_total', reset), 1);
    const failedReset = { provider: 'cybercrime-tracker', call: 'query', cause: 'reset' };
    assert.equal(valueOf(samples, 'ctr_relay_upstream_failures_total', failedReset) - valueOf(start, 'ctr_relay_upstream_failures_total', failedReset), 1);
    assert.equal(valueOf(samples, 'ctr_relay_upstream_calls_total', { provider: 'cybercrime-tracker', call: 'query', status: 'service unavailable' }), 0);
  });

  test('partial answers and refused tokens have their own outcomes', async () => {
    await relay.post(
      '/echo/observe/observables',
      [
        { type: 'ip', value: '192.0.2.1' },
        { type: 'domain', value: 'fail.example.com' },
      ],
      bearer(token),
    );
    await relay.post('/echo/observe/observables', [{ type: 'ip', value: '192.0.2.1' }]);
    const samples = await scrape(relay);
    assert.equal(valueOf(samples, 'ctr_relay_requests_total', { module: 'echo', endpoint: 'observe', outcome: 'partial' }), 1);
    assert.equal(valueOf(samples, 'ctr_relay_requests_total', { module: 'echo', endpoint: 'observe', outcome: 'authorization error' }), 1);
  });

  test('cache lookups and rate-limit refusals are counted when recorded', async () => {
    relay.app.relay.metrics.recordCacheLookup('cybercrime-tracker', true);
    relay.app.relay.metrics.recordCacheLookup('cybercrime-tracker', true);
    relay.app.relay.metrics.recordCacheLookup('cybercrime-tracker', false);
    relay.app.relay.metrics.recordRateLimitRefusal('echo');
    const samples = await scrape(relay);
    assert.equal(valueOf(samples, 'ctr_relay_cache_hits_total', { provider: 'cybercrime-tracker' }), 2);
    assert.equal(valueOf(samples, 'ctr_relay_cache_misses_total', { provider: 'cybercrime-tracker' }), 1);
    assert.equal(valueOf(samples, 'ctr_relay_rate_limit_refusals_total', { module: 'echo' }), 1);
  });

  test("includes the process's own metrics", async () => {
    const samples = await scrape(relay);
    assert.ok(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total'));
    assert.ok(samples.some((sample) => sample.name === 'nodejs_heap_size_used_bytes'));
  });

  test('each app counts its own requests', async () => {
    const other = await startRelay({ PROVIDERS: 'cybercrime-tracker', ...cybercrime.envFor(fake.url) });
    try {
      const samples = await scrape(other);
      assert.equal(valueOf(samples, 'ctr_relay_requests_total', { module: 'cybercrime-tracker', endpoint: 'observe', outcome: 'ok' }), 0);
      assert.ok(valueOf(await scrape(relay), 'ctr_relay_requests_total', { module: 'cybercrime-tracker', endpoint: 'observe', outcome: 'ok' }) >= 2);
    } finally {
      await other.close();
    }
  });
});

describe('cache and rate-limit metrics from the gate in front of a provider', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  before(async () => {
    fake = await startFakeUpstream(cybercrime.handler);
    // One call per ten minutes: the second distinct lookup is refused by the relay itself.
    relay = await startRelay({ PROVIDERS: 'cybercrime-tracker', CACHE: 'on', RATE_LIMITS: 'on', RATE_LIMIT_CYBERCRIME_TRACKER: '1/600', ...cybercrime.envFor(fake.url) });
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });

  test('a repeated lookup is a cache hit; a lookup over the limit is a refusal', async () => {
    const [first, second] = cybercrime.observables(2);
    assert.equal((await relay.post('/cybercrime-tracker/observe/observables', [first])).json.errors, undefined);
    assert.equal((await relay.post('/cybercrime-tracker/observe/observables', [first])).json.errors, undefined);
    assert.equal(fake.requests.filter((request) => request.url.startsWith('/query.php')).length, 1, 'the second lookup came from the cache');
    const refused = await relay.post('/cybercrime-tracker/observe/observables', [second]);
    assert.equal(refused.json.errors?.[0]?.code, 'too many requests');
    const samples = await scrape(relay);
    assert.equal(valueOf(samples, 'ctr_relay_cache_hits_total', { provider: 'cybercrime-tracker' }), 1);
    assert.equal(valueOf(samples, 'ctr_relay_cache_misses_total', { provider: 'cybercrime-tracker' }), 1);
    assert.equal(valueOf(samples, 'ctr_relay_rate_limit_refusals_total', { module: 'cybercrime-tracker' }), 1);
    assert.equal(valueOf(samples, 'ctr_relay_requests_total', { module: 'cybercrime-tracker', endpoint: 'observe', outcome: 'too many requests' }), 1);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
  let relay: RunningRelay;
  before(async () => {
    relay = await startRelay({ PROVIDERS: 'cybercrime-tracker', METRICS_TOKEN });
  });
  after(() => relay.close());

  const refusals: [string, Record<string, string>, string][] = [
    ['no header', {}, 'Authorization failed: Authorization header is missing'],
    ['another scheme', { authorization: `Basic ${METRICS_TOKEN}` }, 'Authorization failed: Wrong authorization type'],
    ['a wrong token', { authorization: 'Bearer not-the-metrics-token' }, 'Authorization failed: Wrong metrics token'],
  ];
  for (const [name, headers, message] of refusals) {
    test(`${name} is answered 401 in the contract's errors shape`, async () => {
      const answer = await relay.get('/metrics', headers);
      assert.equal(answer.status, 401);
      assert.deepEqual(answer.json, { errors: [{ type: 'fatal', code: 'authorization error', message }] });
    });
  }

  test('the right token gets the metrics', async () => {
    const samples = await scrape(relay, { authorization: `Bearer ${METRICS_TOKEN}` });
    assert.ok(samples.some((sample) => sample.name === 'ctr_relay_requests_total' || sample.name === 'process_cpu_user_seconds_total'));
  });
});
