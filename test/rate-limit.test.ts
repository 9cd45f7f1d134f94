// Rate limits: the token bucket arithmetic, the settings, and through the real server the
// provider's 429 cool-down and our own bucket refusing what could not finish before the deadline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalRateLimitState, parseRateLimit, reserveToken } from '../src/core/rate-limit.js';
import { loadSettings } from '../src/core/settings.js';
import { PROVIDERS } from '../src/providers/registry.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { keyedProvider } from './helpers/keyed-provider.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const WITH_KEYED = [...PROVIDERS, keyedProvider];
// startRelay() turns rate limits off for other suites; here they are what is tested.
const KEYED = { PROVIDERS: 'keyed', SECRET_KEY: TEST_SECRET, RATE_LIMITS: 'on' };
const ips = (count: number, offset = 0) => Array.from({ length: count }, (_, index) => ({ type: 'ip', value: `198.51.100.${offset + index + 1}` }));

describe('the token bucket', () => {
  test('RATE_LIMIT values: <requests>/<seconds> or off', () => {
    assert.deepEqual(parseRateLimit('60/60'), { requests: 60, perSeconds: 60 });
    assert.deepEqual(parseRateLimit(' 1 / 1 '), { requests: 1, perSeconds: 1 });
    assert.equal(parseRateLimit('off'), null);
    for (const bad of ['fast', '0/10', '10/0', '1.5/2', '-1/2', '10']) assert.equal(parseRateLimit(bad), undefined, bad);
  });

  test('a burst of `requests`, then one every interval', () => {
    const limit = { requests: 3, perSeconds: 3 };
    let tat: number | undefined;
    const waits: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      const reserved = reserveToken(tat, 10_000, limit, 60_000);
      assert.ok('tat' in reserved);
      tat = reserved.tat;
      waits.push(reserved.waitMs);
    }
    assert.deepEqual(waits, [0, 0, 0, 1000, 2000]);
  });

  test('a token later than the longest wait allowed is refused, and nothing is taken', () => {
    const limit = { requests: 1, perSeconds: 10 };
    const first = reserveToken(undefined, 0, limit, 1000);
    assert.ok('tat' in first);
    const refused = reserveToken(first.tat, 0, limit, 1000);
    assert.deepEqual(refused, { retryAfterMs: 10_000 });
    const later = reserveToken(first.tat, 10_000, limit, 1000);
    assert.ok('tat' in later && later.waitMs === 0);
  });

  test('local state: a cool-down refuses until it has passed, whatever the bucket holds', async () => {
    let now = 0;
    const state = new LocalRateLimitState(() => now);
    await state.block('p:scope', 5_000);
    assert.deepEqual(await state.acquire('p:scope', null, 60_000), { outcome: 'refused', retryAfterMs: 5_000, coolDown: true });
    assert.deepEqual(await state.acquire('p:other', null, 60_000), { outcome: 'go', waitMs: 0 });
    now = 5_001;
    assert.deepEqual(await state.acquire('p:scope', null, 60_000), { outcome: 'go', waitMs: 0 });
  });

  test('settings: a default per provider, RATE_LIMIT_<ID> overrides, RATE_LIMITS=off turns every one off', () => {
    assert.deepEqual(loadSettings({}, PROVIDERS).rateLimits.pulsedive, { requests: 60, perSeconds: 60 });
    assert.equal(loadSettings({}, PROVIDERS).rateLimits['cybercrime-tracker'], null);
    assert.deepEqual(loadSettings({ RATE_LIMIT_CYBERCRIME_TRACKER: '5/1' }, PROVIDERS).rateLimits['cybercrime-tracker'], { requests: 5, perSeconds: 1 });
    assert.equal(loadSettings({ RATE_LIMIT_CYBERCRIME_TRACKER: 'off' }, PROVIDERS).rateLimits['cybercrime-tracker'], null);
    assert.equal(loadSettings({ RATE_LIMITS: 'off' }, PROVIDERS).rateLimits['cybercrime-tracker'], null);
    assert.throws(() => loadSettings({ RATE_LIMIT_XFORCE: 'lots' }, PROVIDERS), /RATE_LIMIT_XFORCE accepts <requests>\/<seconds>/);
  });
});

describe('a provider 429 with Retry-After', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  before(async () => {
    fake = await startFakeUpstream(() => ({ status: 429, headers: { 'retry-after': '120' }, body: { error: 'slow down' } }));
    relay = await startRelay({ ...KEYED, KEYED_URL: fake.url }, { providers: WITH_KEYED });
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });

  test('blocks that credential: the next request answers too many requests without an upstream call', async () => {
    const token = await hs256Token({ key: 'limited-key' });
    const first = await relay.post('/keyed/observe/observables', ips(1), bearer(token));
    assert.equal(first.json.errors[0].code, 'too many requests');
    assert.equal(fake.requests.length, 1);

    fake.setHandler(() => ({ body: { known: true } }));
    const second = await relay.post('/keyed/observe/observables', ips(3, 10), bearer(token));
    assert.deepEqual(
      second.json.errors.map((error: { code: string }) => error.code),
      ['too many requests'],
    );
    assert.equal(second.json.data, undefined);
    assert.equal(fake.requests.length, 1, 'no upstream call while cooling down');

    const health = await relay.post('/keyed/health', undefined, bearer(token));
    assert.equal(health.json.errors[0].code, 'too many requests');
    assert.equal(fake.requests.length, 1);
  });

  test('other credentials are not blocked', async () => {
    const before = fake.requests.length;
    const answer = await relay.post('/keyed/observe/observables', ips(1, 20), bearer(await hs256Token({ key: 'another-key' })));
    assert.equal(answer.json.data.verdicts.count, 1);
    assert.equal(fake.requests.length, before + 1);
  });
});

describe('our own token bucket', () => {
  let fake: FakeUpstream;
  before(async () => {
    fake = await startFakeUpstream(() => ({ body: { known: true } }));
  });
  after(() => fake.close());

  test('a token that would come after the deadline is refused at once, not waited for', async () => {
    const relay = await startRelay({ ...KEYED, KEYED_URL: fake.url, RATE_LIMIT_KEYED: '1/600', REQUEST_DEADLINE_MS: '5000' }, { providers: WITH_KEYED });
    try {
      const before = fake.requests.length;
      const started = performance.now();
      const answer = await relay.post('/keyed/observe/observables', ips(3, 30), bearer(await hs256Token({ key: 'k' })));
      const elapsed = performance.now() - started;
      assert.equal(answer.json.data.verdicts.count, 1);
      assert.deepEqual(
        answer.json.errors.map((error: { code: string }) => error.code),
        ['too many requests'],
      );
      assert.equal(fake.requests.length, before + 1);
      assert.ok(elapsed < 4000, `answered after ${Math.round(elapsed)} ms, not at the deadline`);
    } finally {
      await relay.close();
    }
  });

  test('a token that comes in time is waited for', async () => {
    const relay = await startRelay({ ...KEYED, KEYED_URL: fake.url, RATE_LIMIT_KEYED: '2/1', REQUEST_DEADLINE_MS: '10000' }, { providers: WITH_KEYED });
    try {
      const before = fake.requests.length;
      const answer = await relay.post('/keyed/observe/observables', ips(4, 40), bearer(await hs256Token({ key: 'k' })));
      assert.equal(answer.json.errors, undefined, JSON.stringify(answer.json.errors));
      assert.equal(answer.json.data.verdicts.count, 4);
      assert.equal(fake.requests.length, before + 4);
    } finally {
      await relay.close();
    }
  });

  test('a token further away than RATE_LIMIT_MAX_WAIT_MS is refused at once, with a Retry-After for every refused call', async () => {
    // One token every 5 s and a deadline of 14 s: before, the third call waited 5 s and the fourth 10 s.
    const relay = await startRelay({ ...KEYED, KEYED_URL: fake.url, RATE_LIMIT_KEYED: '2/10' }, { providers: WITH_KEYED });
    try {
      const before = fake.requests.length;
      const started = performance.now();
      const answer = await relay.post('/keyed/observe/observables', ips(4, 60), bearer(await hs256Token({ key: 'k' })));
      const elapsed = performance.now() - started;
      assert.equal(answer.json.data.verdicts.count, 2);
      assert.deepEqual(
        answer.json.errors.map((error: { code: string; message: string }) => [error.code, error.message]),
        [['too many requests', 'Too many requests to Keyed have been made. Please, try again later.']],
      );
      assert.equal(fake.requests.length, before + 2);
      assert.ok(elapsed < 4000, `answered after ${Math.round(elapsed)} ms, not after waiting for tokens`);
      // The two refused calls get their tokens 5 and 10 s from now: a retry after 10 s finds both.
      assert.equal(answer.headers.get('retry-after'), '10');
    } finally {
      await relay.close();
    }
  });

  test('RATE_LIMIT_MAX_WAIT_MS: 0 refuses every wait; a longer one waits for the token', async () => {
    const token = bearer(await hs256Token({ key: 'k' }));
    const strict = await startRelay({ ...KEYED, KEYED_URL: fake.url, RATE_LIMIT_KEYED: '1/1', RATE_LIMIT_MAX_WAIT_MS: '0' }, { providers: WITH_KEYED });
    try {
      const answer = await strict.post('/keyed/observe/observables', ips(2, 70), token);
      assert.equal(answer.json.data.verdicts.count, 1);
      assert.equal(answer.json.errors[0].code, 'too many requests');
      assert.equal(answer.headers.get('retry-after'), '1');
    } finally {
      await strict.close();
    }
    const patient = await startRelay({ ...KEYED, KEYED_URL: fake.url, RATE_LIMIT_KEYED: '1/1', RATE_LIMIT_MAX_WAIT_MS: '3000' }, { providers: WITH_KEYED });
    try {
      const answer = await patient.post('/keyed/observe/observables', ips(2, 80), token);
      assert.equal(answer.json.errors, undefined, JSON.stringify(answer.json.errors));
      assert.equal(answer.json.data.verdicts.count, 2);
      assert.equal(answer.headers.get('retry-after'), null);
    } finally {
      await patient.close();
    }
    assert.throws(() => loadSettings({ RATE_LIMIT_MAX_WAIT_MS: 'soon' }, PROVIDERS), /RATE_LIMIT_MAX_WAIT_MS/);
  });

  test('RATE_LIMITS=off lets every call through', async () => {
    const relay = await startRelay({ ...KEYED, KEYED_URL: fake.url, RATE_LIMIT_KEYED: '1/600', RATE_LIMITS: 'off' }, { providers: WITH_KEYED });
    try {
      const answer = await relay.post('/keyed/observe/observables', ips(3, 50), bearer(await hs256Token({ key: 'k' })));
      assert.equal(answer.json.data.verdicts.count, 3);
    } finally {
      await relay.close();
    }
  });
});

describe('the request deadline', () => {
  test('a provider that hangs: the answer comes by REQUEST_DEADLINE_MS with the others\' data and a service unavailable error', async () => {
    const fake = await startFakeUpstream((request) => (request.url.includes('198.51.100.99') ? { action: 'hang' } : { body: { known: true } }));
    const relay = await startRelay({ ...KEYED, KEYED_URL: fake.url, REQUEST_DEADLINE_MS: '700', UPSTREAM_TIMEOUT_MS: '60000' }, { providers: WITH_KEYED });
    try {
      const started = performance.now();
      const answer = await relay.post('/keyed/observe/observables', [...ips(2, 60), { type: 'ip', value: '198.51.100.99' }], bearer(await hs256Token({ key: 'k' })));
      const elapsed = performance.now() - started;
      assert.equal(answer.json.data.verdicts.count, 2);
      assert.equal(answer.json.errors.length, 1);
      assert.equal(answer.json.errors[0].code, 'service unavailable');
      assert.match(answer.json.errors[0].message, /700 ms/);
      assert.ok(elapsed < 5000, `answered after ${Math.round(elapsed)} ms`);
    } finally {
      await relay.close();
      await fake.close();
    }
  });
});
