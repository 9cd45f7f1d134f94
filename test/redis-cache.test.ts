// Two relay instances sharing one real Redis (REDIS_URL): the cache and the 429 cool-down are
// shared. `.ci/run` starts a redis-server and sets TEST_REDIS_URL; without it this suite is skipped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { PROVIDERS } from '../src/providers/registry.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { keyedProvider } from './helpers/keyed-provider.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const WITH_KEYED = [...PROVIDERS, keyedProvider];

describe('two instances with the same REDIS_URL', { skip: REDIS_URL === undefined ? 'TEST_REDIS_URL is not set' : false }, () => {
  let fake: FakeUpstream;
  let first: RunningRelay;
  let second: RunningRelay;
  let redis: Redis;
  // A key of this run only: entries left by an earlier run can never answer for it.
  const key = `redis-test-${randomUUID()}`;

  before(async () => {
    fake = await startFakeUpstream((request) => (request.url.includes('198.51.100.77') ? { status: 429, headers: { 'retry-after': '60' }, body: {} } : { body: { known: true } }));
    const env = { PROVIDERS: 'keyed', SECRET_KEY: TEST_SECRET, KEYED_URL: fake.url, REDIS_URL: REDIS_URL!, CACHE: 'on', RATE_LIMITS: 'on' };
    first = await startRelay(env, { providers: WITH_KEYED });
    second = await startRelay(env, { providers: WITH_KEYED });
    redis = new Redis(REDIS_URL!);
  });
  after(async () => {
    await first.close();
    await second.close();
    await fake.close();
    redis.disconnect();
  });

  test("the second instance's first lookup makes no upstream call", async () => {
    const token = await hs256Token({ key });
    const observables = [{ type: 'ip', value: '198.51.100.7' }];
    const fromFirst = await first.post('/keyed/observe/observables', observables, bearer(token));
    assert.equal(fromFirst.json.data.verdicts.count, 1);
    assert.equal(fake.requests.length, 1);
    const fromSecond = await second.post('/keyed/observe/observables', observables, bearer(token));
    assert.equal(fromSecond.json.data.verdicts.count, 1);
    assert.equal(fake.requests.length, 1, 'answered from the shared cache');
  });

  test('Redis holds no credential, only hashes', async () => {
    const keys = await redis.keys('ctr-relay:*');
    assert.ok(keys.length > 0);
    for (const stored of keys) assert.equal(stored.includes(key), false, stored);
    const values = await Promise.all(keys.filter((stored) => stored.startsWith('ctr-relay:cache:')).map((stored) => redis.get(stored)));
    for (const value of values) assert.equal(value?.includes(key), false);
  });

  test("a 429 seen by one instance blocks that credential on the other", async () => {
    const token = await hs256Token({ key });
    const before = fake.requests.length;
    const limited = await first.post('/keyed/observe/observables', [{ type: 'ip', value: '198.51.100.77' }], bearer(token));
    assert.equal(limited.json.errors[0].code, 'too many requests');
    assert.equal(fake.requests.length, before + 1);
    const blocked = await second.post('/keyed/observe/observables', [{ type: 'ip', value: '198.51.100.78' }], bearer(token));
    assert.equal(blocked.json.errors[0].code, 'too many requests');
    assert.equal(fake.requests.length, before + 1, 'no upstream call from the second instance');
  });

  test('the token bucket is shared: a token spent by one instance is gone for the other', async () => {
    const env = { PROVIDERS: 'keyed', SECRET_KEY: TEST_SECRET, KEYED_URL: fake.url, REDIS_URL: REDIS_URL!, CACHE: 'off', RATE_LIMITS: 'on', RATE_LIMIT_KEYED: '1/600' };
    const [one, two] = [await startRelay(env, { providers: WITH_KEYED }), await startRelay(env, { providers: WITH_KEYED })];
    try {
      const token = await hs256Token({ key: `${key}-bucket` });
      const before = fake.requests.length;
      assert.equal((await one.post('/keyed/observe/observables', [{ type: 'ip', value: '198.51.100.8' }], bearer(token))).json.data.verdicts.count, 1);
      const refused = await two.post('/keyed/observe/observables', [{ type: 'ip', value: '198.51.100.9' }], bearer(token));
      assert.equal(refused.json.errors[0].code, 'too many requests');
      assert.equal(fake.requests.length, before + 1);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
