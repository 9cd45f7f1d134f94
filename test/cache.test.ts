// The cache of upstream answers and single-flight: the store on its own, then through the real
// server against a fake provider that counts what reaches it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCacheStore } from '../src/core/cache/memory-store.js';
import { cacheKey, isCacheable } from '../src/core/cached-http.js';
import { loadSettings } from '../src/core/settings.js';
import type { UpstreamResponse } from '../src/core/upstream.js';
import { upstreamUrl } from '../src/core/upstream.js';
import { PROVIDERS } from '../src/providers/registry.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { keyedProvider } from './helpers/keyed-provider.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const WITH_KEYED = [...PROVIDERS, keyedProvider];
// startRelay() turns the cache off for other suites; here it is what is tested.
const KEYED = { PROVIDERS: 'keyed', SECRET_KEY: TEST_SECRET, CACHE: 'on' };
const answer = (body: string): UpstreamResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body });

describe('the in-memory store', () => {
  test('a miss, then a hit, then expiry after its time to live', async () => {
    let now = 1_000;
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1_000_000, clock: { now: () => now } });
    assert.equal(await store.get('a'), undefined);
    await store.set('a', answer('{"x":1}'), 60);
    const before = Date.now();
    await store.set('b', answer('{}'), 60);
    const { parsed, cachedAt, ...hit } = (await store.get('a'))!;
    assert.deepEqual(hit, answer('{"x":1}'));
    assert.ok(parsed instanceof Map, 'a kept answer carries what providers parse from it');
    assert.ok(typeof cachedAt === 'number' && cachedAt <= before + 1, 'and when it was stored');
    assert.ok((await store.get('b'))!.cachedAt! >= before);
    now += 59_000;
    assert.notEqual(await store.get('a'), undefined);
    now += 2_000;
    assert.equal(await store.get('a'), undefined);
  });

  test('a time to live of 0 keeps nothing', async () => {
    const store = new MemoryCacheStore({ maxEntries: 10, maxBytes: 1_000_000 });
    await store.set('a', answer('{}'), 0);
    assert.equal(store.size, 0);
  });

  test('bounded by bytes: the least recently used go first, and an answer larger than the bound is not kept', async () => {
    const store = new MemoryCacheStore({ maxEntries: 1000, maxBytes: 6_000 });
    // Each entry counts its body twice (the body, and what is parsed from it) and 1 KB for its
    // objects: about 1.7 KB here.
    for (let index = 0; index < 10; index += 1) await store.set(`key-${index}`, answer('x'.repeat(300)), 60);
    assert.ok(store.bytes <= 6_000, `${store.bytes} bytes kept`);
    assert.ok(store.size < 10 && store.size >= 2, `${store.size} entries kept`);
    assert.notEqual(await store.get('key-9'), undefined);
    assert.equal(await store.get('key-0'), undefined);
    await store.set('huge', answer('y'.repeat(3_000)), 60);
    assert.equal(await store.get('huge'), undefined);
  });

  test('bounded by entries', async () => {
    const store = new MemoryCacheStore({ maxEntries: 3, maxBytes: 1_000_000 });
    for (let index = 0; index < 5; index += 1) await store.set(`key-${index}`, answer('{}'), 60);
    assert.equal(store.size, 3);
  });

  test('a caller cannot change what the next caller gets: what it got is frozen', async () => {
    const store = new MemoryCacheStore({ maxEntries: 3, maxBytes: 1_000_000 });
    const kept = answer('{}');
    await store.set('a', kept, 60);
    kept.headers['content-type'] = 'text/html';
    const first = await store.get('a');
    assert.throws(() => {
      first!.headers['content-type'] = 'text/plain';
    }, TypeError);
    assert.throws(() => {
      (first as { body: string }).body = 'changed';
    }, TypeError);
    assert.equal((await store.get('a'))!.headers['content-type'], 'application/json');
    assert.equal((await store.get('a'))!.body, '{}');
  });
});

describe('cache keys and what is cached', () => {
  test('keys are hashes: no credential from the query, the body or a header', () => {
    const request = {
      call: 'lookup',
      url: upstreamUrl('https://api.example.com/', ['info.php'], { indicator: '198.51.100.1', key: 'query-secret-1234' }),
      method: 'POST' as const,
      headers: { authorization: 'Basic header-secret-5678' },
      body: JSON.stringify({ key: 'body-secret-9012', request: '198.51.100.1' }),
    };
    const key = cacheKey('pulsedive', 'scope-a', request);
    assert.match(key, /^pulsedive:[0-9a-f]{64}$/);
    for (const secret of ['query-secret-1234', 'header-secret-5678', 'body-secret-9012', '198.51.100.1']) assert.equal(key.includes(secret), false);
    assert.notEqual(cacheKey('pulsedive', 'scope-b', request), key, 'another credential scope, another key');
    assert.notEqual(cacheKey('pulsedive', 'scope-a', { ...request, body: '{}' }), key, 'another body, another key');
    assert.equal(cacheKey('pulsedive', 'scope-a', { ...request }), key, 'the same call, the same key');
  });

  test('data and "nothing known" answers are cacheable; errors are not', () => {
    for (const status of [200, 204, 400, 404, 406]) assert.equal(isCacheable(status), true, String(status));
    for (const status of [401, 403, 429, 500, 502, 503]) assert.equal(isCacheable(status), false, String(status));
  });

  test('per-provider time to live overrides the default', () => {
    const settings = loadSettings({ CACHE_TTL_SECONDS: '120', CACHE_TTL_SECONDS_CYBERCRIME_TRACKER: '30' }, PROVIDERS);
    assert.equal(settings.cacheTtlSeconds['cybercrime-tracker'], 30);
    assert.equal(settings.cacheTtlSeconds['xforce'], 120);
    assert.equal(loadSettings({}, PROVIDERS).cacheTtlSeconds['xforce'], 300);
    assert.throws(() => loadSettings({ CACHE_TTL_SECONDS_XFORCE: 'soon' }, PROVIDERS), /CACHE_TTL_SECONDS_XFORCE accepts a whole number/);
  });
});

describe('the cache through the relay', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  let token: string;
  const lookups = () => fake.requests.filter((request) => request.url.startsWith('/lookup')).length;
  const observe = (value: string, authorization = token) => relay.post('/keyed/observe/observables', [{ type: 'ip', value }], bearer(authorization));

  before(async () => {
    fake = await startFakeUpstream((request) => (request.url.includes('198.51.100.4') ? { status: 404, body: {} } : { body: { known: true } }));
    relay = await startRelay({ ...KEYED, KEYED_URL: fake.url }, { providers: WITH_KEYED });
    token = await hs256Token({ key: 'secret-key-one' });
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });

  test('the second identical lookup is answered from the cache, with the same answer', async () => {
    const first = await observe('198.51.100.1');
    assert.equal(first.json.data.verdicts.count, 1);
    assert.equal(lookups(), 1);
    const second = await observe('198.51.100.1');
    assert.equal(lookups(), 1, 'no second upstream call');
    assert.deepEqual(second.json.data.verdicts.docs[0].disposition, first.json.data.verdicts.docs[0].disposition);
  });

  test('another credential does not share the cached answer', async () => {
    await observe('198.51.100.2');
    const before = lookups();
    await observe('198.51.100.2', await hs256Token({ key: 'secret-key-two' }));
    assert.equal(lookups(), before + 1);
  });

  test('"nothing known" (404) is cached too', async () => {
    const before = lookups();
    assert.deepEqual((await observe('198.51.100.4')).json, { data: {} });
    assert.deepEqual((await observe('198.51.100.4')).json, { data: {} });
    assert.equal(lookups(), before + 1);
  });

  test('the stored keys hold no credential and no observable', async () => {
    const store = relay.app.relay.cache;
    assert.ok(store instanceof MemoryCacheStore);
    const keys = store.keys();
    assert.ok(keys.length > 0);
    for (const key of keys) {
      assert.equal(key.includes('secret-key'), false, key);
      assert.equal(key.includes('198.51.100'), false, key);
    }
  });

  test('errors are not cached: after a 500 and a 401 the next lookup asks again', async () => {
    const statuses = [500, 401, 200];
    fake.setHandler(() => {
      const status = statuses.shift() ?? 200;
      return { status, body: status === 200 ? { known: true } : { error: 'no' } };
    });
    const before = lookups();
    assert.equal((await observe('198.51.100.5')).json.errors[0].code, 'service unavailable');
    assert.equal((await observe('198.51.100.5')).json.errors[0].code, 'authorization error');
    assert.equal((await observe('198.51.100.5')).json.data.verdicts.count, 1);
    assert.equal(lookups(), before + 3);
  });

  test('health is never answered from the cache', async () => {
    fake.setHandler(() => ({ body: {} }));
    const healthChecks = () => fake.requests.filter((request) => request.url.startsWith('/health')).length;
    for (let index = 0; index < 3; index += 1) assert.deepEqual((await relay.post('/keyed/health', undefined, bearer(token))).json, { data: { status: 'ok' } });
    assert.equal(healthChecks(), 3);
  });

  test('concurrent identical lookups share one upstream call (single-flight)', async () => {
    fake.setHandler(() => ({ body: { known: true }, delayMs: 300 }));
    const before = lookups();
    const answers = await Promise.all(Array.from({ length: 8 }, () => observe('198.51.100.6')));
    for (const answer of answers) assert.equal(answer.json.data.verdicts.count, 1);
    assert.equal(lookups(), before + 1);
  });
});

describe('the relay with CACHE=off or a time to live of 0', () => {
  let fake: FakeUpstream;
  before(async () => {
    fake = await startFakeUpstream(() => ({ body: { known: true } }));
  });
  after(() => fake.close());

  for (const env of [{ CACHE: 'off' }, { CACHE_TTL_SECONDS_KEYED: '0' }]) {
    test(`every lookup goes upstream with ${JSON.stringify(env)}`, async () => {
      const relay = await startRelay({ ...KEYED, KEYED_URL: fake.url, ...env }, { providers: WITH_KEYED });
      try {
        const token = await hs256Token({ key: 'k' });
        const before = fake.requests.length;
        for (let index = 0; index < 3; index += 1) await relay.post('/keyed/observe/observables', [{ type: 'ip', value: '192.0.2.1' }], bearer(token));
        assert.equal(fake.requests.length, before + 3);
      } finally {
        await relay.close();
      }
    });
  }

  test('single-flight still shares concurrent identical calls with CACHE=off', async () => {
    const relay = await startRelay({ ...KEYED, KEYED_URL: fake.url, CACHE: 'off' }, { providers: WITH_KEYED });
    try {
      fake.setHandler(() => ({ body: { known: true }, delayMs: 300 }));
      const token = await hs256Token({ key: 'k' });
      const before = fake.requests.length;
      await Promise.all(Array.from({ length: 5 }, () => relay.post('/keyed/observe/observables', [{ type: 'ip', value: '192.0.2.2' }], bearer(token))));
      assert.equal(fake.requests.length, before + 1);
    } finally {
      await relay.close();
    }
  });

  test('a Redis that cannot be reached degrades to calling the provider', async () => {
    const relay = await startRelay({ ...KEYED, KEYED_URL: fake.url, REDIS_URL: 'redis://127.0.0.1:9/' }, { providers: WITH_KEYED });
    try {
      fake.setHandler(() => ({ body: { known: true } }));
      const token = await hs256Token({ key: 'k' });
      const answer = await relay.post('/keyed/observe/observables', [{ type: 'ip', value: '192.0.2.3' }], bearer(token));
      assert.equal(answer.json.data.verdicts.count, 1);
    } finally {
      await relay.close();
    }
  });
});
