// The module end to end: the relay as a server with an HS256 token, C1fApp as a fake on 127.0.0.1
// that checks the key in the POSTed body like the real API.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HS256_MESSAGES } from '../../core/errors.js';
import { fixture, fixtureText, startFakeUpstream, type FakeHandler, type FakeUpstream } from '../../../test/helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from '../../../test/helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token } from '../../../test/helpers/tokens.js';
import { c1fappScenario, createC1fappHandler } from './test-support/scenario.js';

// A key with characters that would matter in a URL: it travels in the JSON body only.
const KEY = 'c1f-key/with?odd#chars&..';
const folder = new URL('./', import.meta.url);

const DOMAIN = 'secure-login.example.com';
const URL_VALUE = 'https://onedrive.example.com/?authkey=%21AG7v3K%5Fv%5Fvmx0wU';
const IP = '198.51.100.23';
const QUIET = 'quiet.example.org';

const answers: Record<string, unknown> = {
  [DOMAIN]: fixture(folder, 'domain-records.json'),
  [URL_VALUE]: fixture(folder, 'url-record.json'),
  [IP]: fixture(folder, 'ip-record.json'),
  [QUIET]: fixture(folder, 'empty-lists.json'),
  'test.com': fixture(folder, 'url-record.json'),
};
const emptySearch = fixtureText(folder, 'empty-search.txt');
const unsupportedRequest = fixtureText(folder, 'unsupported-request.txt');

interface SentBody {
  key?: unknown;
  request?: unknown;
  format?: unknown;
  backend?: unknown;
}

function sentBody(body: string): SentBody {
  return JSON.parse(body) as SentBody;
}

/** The real API's behaviour: a wrong key is 403 `Invalid API key`; unknown values the empty-search sentence. */
function c1fappLike(overrides: Record<string, { status?: number; body: unknown }> = {}): FakeHandler {
  return (request) => {
    const body = sentBody(request.body);
    if (body.key !== KEY) return { status: 403, body: 'Invalid API key' };
    const value = String(body.request);
    if (overrides[value] !== undefined) return overrides[value];
    return value in answers ? { body: answers[value] } : { body: emptySearch };
  };
}

type Entity = { id: string; type: string; [field: string]: unknown };
interface Ref {
  type: string;
  value: string;
}
interface SightingDoc extends Entity {
  observables: Ref[];
  observed_time: { start_time: string };
  relations: { relation: string; source: Ref; related: Ref }[];
}

function entitiesOf(data: Record<string, { docs: Entity[] } | undefined>): Map<string, Entity> {
  const byId = new Map<string, Entity>();
  for (const key of ['judgements', 'indicators', 'sightings']) for (const entity of data[key]?.docs ?? []) byId.set(entity.id, entity);
  return byId;
}

/** Every relationship joins a sighting of this answer to an indicator of this answer. */
function assertRelationshipsPointInside(data: Record<string, { docs: Entity[] } | undefined>): void {
  const byId = entitiesOf(data);
  const relationships = data.relationships?.docs ?? [];
  assert.ok(relationships.length > 0);
  for (const relationship of relationships) {
    assert.equal(relationship.relationship_type, 'member-of');
    assert.equal(byId.get(relationship.source_ref as string)?.type, 'sighting', 'source_ref is a sighting of the answer');
    assert.equal(byId.get(relationship.target_ref as string)?.type, 'indicator', 'target_ref is an indicator of the answer');
  }
}

describe('c1fapp', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  let token: string;
  const observe = (observables: unknown, auth = token) => relay.post('/c1fapp/observe/observables', observables, bearer(auth));

  before(async () => {
    fake = await startFakeUpstream();
    // A path without a trailing slash shows the endpoint is POSTed to exactly as configured.
    relay = await startRelay({ PROVIDERS: 'c1fapp', SECRET_KEY: TEST_SECRET, C1FAPP_API_URL: `${fake.url}cifapp/api` });
    token = await hs256Token({ key: KEY });
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setHandler(c1fappLike());
  });

  test('observe of a domain: one POST of the key and the value as JSON, sightings, feed indicators, member-of', async () => {
    const answer = await observe([{ type: 'domain', value: DOMAIN }]);
    assert.equal(answer.status, 200);
    assert.equal(answer.json.errors, undefined);
    const { data } = answer.json;
    assert.equal(data.sightings.count, 5);
    assert.deepEqual(
      data.indicators.docs.map((indicator: Entity) => indicator.title),
      ['Feed: Phishtank', 'Feed: MDL'],
    );
    assert.equal(data.relationships.count, 5);
    assert.equal(data.verdicts, undefined);
    assert.equal(data.judgements, undefined);
    assert.deepEqual(data.sightings.docs[0].observed_time, { start_time: '2020-08-03T00:00:00.000Z', end_time: '2020-08-03T00:00:00.000Z' });
    assert.deepEqual(data.sightings.docs[0].observables, [{ type: 'domain', value: DOMAIN }]);
    assertRelationshipsPointInside(data);

    assert.equal(fake.requests.length, 1);
    const [request] = fake.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/cifapp/api');
    assert.match(String(request?.headers['content-type']), /^application\/json/);
    assert.deepEqual(sentBody(request?.body ?? ''), { key: KEY, request: DOMAIN, format: 'json', backend: 'es' });
  });

  test('ip, domain and url together: one indicator per feed across observables, every relationship inside the answer', async () => {
    const answer = await observe([
      { type: 'domain', value: DOMAIN },
      { type: 'url', value: URL_VALUE },
      { type: 'ip', value: IP },
    ]);
    assert.equal(answer.json.errors, undefined);
    const { data } = answer.json;
    assert.equal(data.sightings.count, 7);
    // The domain's and the url's Phishtank records share the feed's one stable indicator.
    assert.deepEqual(data.indicators.docs.map((indicator: Entity) => indicator.title).sort(), ['Feed: MDL', 'Feed: Phishtank', 'Feed: SpamHaus']);
    assert.equal(data.relationships.count, 7);
    assertRelationshipsPointInside(data);
    const urlSighting = (data.sightings.docs as SightingDoc[]).find((sighting) => sighting.observables[0]?.type === 'url');
    assert.deepEqual(
      urlSighting?.relations.map((relation) => [relation.relation, relation.source.value, relation.related.value]),
      [
        ['Contains', URL_VALUE, 'onedrive.example.com'],
        ['Resolved_To', URL_VALUE, '192.0.2.13'],
      ],
    );
    assert.deepEqual(fake.requests.map((request) => sentBody(request.body).request).sort(), [DOMAIN, IP, URL_VALUE].sort());
  });

  test('feed indicators keep their ids from one request to the next; sightings do not', async () => {
    const first = (await observe([{ type: 'domain', value: DOMAIN }])).json.data;
    const second = (await observe([{ type: 'domain', value: DOMAIN }])).json.data;
    assert.deepEqual(
      second.indicators.docs.map((indicator: Entity) => indicator.id),
      first.indicators.docs.map((indicator: Entity) => indicator.id),
    );
    assert.notEqual(second.sightings.docs[0].id, first.sightings.docs[0].id);
    for (const relationship of first.relationships.docs) assert.match(relationship.id, /^transient:relationship-[0-9a-f-]{36}$/);
  });

  test('a value holding / ? # & or .. never changes the endpoint: it travels in the body as given', async () => {
    const values = ['http://evil.example.net/../../admin?a=1&b=2#frag', 'http://evil.example.net/a%2F..%2Fb?x=%23&y=..', 'evil.example.net/?key=stolen&request=x'];
    const answer = await observe(values.map((value) => ({ type: 'url', value })));
    assert.deepEqual(answer.json, { data: {} });
    assert.equal(fake.requests.length, 3);
    for (const request of fake.requests) {
      assert.equal(request.url, '/cifapp/api');
      assert.equal(request.method, 'POST');
      assert.equal(sentBody(request.body).key, KEY);
    }
    assert.deepEqual(fake.requests.map((request) => sentBody(request.body).request).sort(), [...values].sort());
  });

  test('the two plain-text "nothing known" answers give no entities and no error', async () => {
    fake.setHandler((request) => ({ body: sentBody(request.body).request === 'nothing.example.com' ? unsupportedRequest : emptySearch }));
    const answer = await observe([
      { type: 'domain', value: 'nothing.example.com' },
      { type: 'ip', value: '192.0.2.200' },
    ]);
    assert.deepEqual(answer.json, { data: {} });
    assert.equal(fake.requests.length, 2);
  });

  test('records with empty ip/domain lists still give sightings, without relations', async () => {
    const answer = await observe([{ type: 'domain', value: QUIET }]);
    assert.equal(answer.json.data.sightings.count, 2);
    for (const sighting of answer.json.data.sightings.docs) assert.deepEqual(sighting.relations, []);
    assertRelationshipsPointInside(answer.json.data);
  });

  const keyErrors: [string, unknown][] = [
    ['an object instead of records', fixture(folder, 'not-a-list.json')],
    ['a record without confidence', fixture(folder, 'changed-shape.json')],
    ['an HTML page', '<html><body>Maintenance</body></html>'],
    ['another sentence', 'Daily limit reached'],
  ];
  for (const [name, body] of keyErrors) {
    test(`${name} is a key error`, async () => {
      fake.setHandler(() => ({ body }));
      const answer = await observe([{ type: 'domain', value: DOMAIN }]);
      assert.deepEqual(answer.json, {
        errors: [{ type: 'fatal', code: 'key error', message: 'The data structure of C1fApp has changed. The module is broken.' }],
      });
    });
  }

  const statuses: [number, string, string][] = [
    [400, 'invalid argument', 'Unexpected response from C1fApp: 400'],
    [401, 'authorization error', 'Authorization failed: Authorization failed on C1fApp side'],
    [403, 'authorization error', 'Authorization failed: Authorization failed on C1fApp side'],
    [429, 'too many requests', 'Too many requests to C1fApp have been made. Please, try again later.'],
    [500, 'service unavailable', 'The C1fApp is unavailable. Please, try again later.'],
    [502, 'service unavailable', 'The C1fApp is unavailable. Please, try again later.'],
    [503, 'service unavailable', 'The C1fApp is unavailable. Please, try again later.'],
    [504, 'service unavailable', 'The C1fApp is unavailable. Please, try again later.'],
  ];
  for (const [status, code, message] of statuses) {
    test(`upstream ${status} is ${code}, and the other observables' entities are kept`, async () => {
      fake.setHandler(c1fappLike({ [IP]: { status, body: 'Invalid API key' } }));
      const answer = await observe([
        { type: 'ip', value: IP },
        { type: 'domain', value: DOMAIN },
      ]);
      assert.equal(answer.status, 200);
      assert.equal(answer.json.data.sightings.count, 5);
      assertRelationshipsPointInside(answer.json.data);
      assert.deepEqual(answer.json.errors, [{ type: 'fatal', code, message }]);
      assert.equal(JSON.stringify(answer.json).includes(KEY), false);
    });
  }

  test('the entities limit of the token caps sightings per observable, newest first, with no dangling relationship', async () => {
    const limited = await hs256Token({ key: KEY, CTR_ENTITIES_LIMIT: 2 });
    const answer = await observe(
      [
        { type: 'domain', value: DOMAIN },
        { type: 'domain', value: QUIET },
      ],
      limited,
    );
    const { data } = answer.json;
    assert.deepEqual(
      (data.sightings.docs as SightingDoc[]).map((sighting) => [sighting.observables[0]?.value, sighting.observed_time.start_time]),
      [
        [DOMAIN, '2020-08-03T00:00:00.000Z'],
        [DOMAIN, '2020-07-30T00:00:00.000Z'],
        [QUIET, '2019-12-24T00:00:00.000Z'],
        [QUIET, '2019-11-02T00:00:00.000Z'],
      ],
    );
    assert.equal(data.relationships.count, 4);
    assertRelationshipsPointInside(data);

    const one = await observe([{ type: 'domain', value: DOMAIN }], await hs256Token({ key: KEY, CTR_ENTITIES_LIMIT: 1 }));
    assert.equal(one.json.data.sightings.count, 1);
    assert.deepEqual(one.json.data.indicators.docs.map((indicator: Entity) => indicator.title), ['Feed: Phishtank']);
    assert.equal(one.json.data.relationships.count, 1);
  });

  test('health looks up test.com with the key', async () => {
    assert.deepEqual((await relay.post('/c1fapp/health', undefined, bearer(token))).json, { data: { status: 'ok' } });
    assert.deepEqual(fake.requests.map((request) => sentBody(request.body)), [{ key: KEY, request: 'test.com', format: 'json', backend: 'es' }]);
  });

  test('health with a key C1fApp refuses is an authorization error', async () => {
    const wrong = await hs256Token({ key: 'not-the-key' });
    const answer = await relay.post('/c1fapp/health', undefined, bearer(wrong));
    assert.deepEqual(answer.json, {
      errors: [{ type: 'fatal', code: 'authorization error', message: 'Authorization failed: Authorization failed on C1fApp side' }],
    });
  });

  test('health when C1fApp is down is service unavailable', async () => {
    fake.setHandler(() => ({ status: 503, body: 'down' }));
    assert.equal((await relay.post('/c1fapp/health', undefined, bearer(token))).json.errors[0].code, 'service unavailable');
  });

  test('deliberate answers {"data": {}} and refer {"data": []}, without calling C1fApp', async () => {
    const observables = [{ type: 'domain', value: DOMAIN }];
    assert.deepEqual((await relay.post('/c1fapp/deliberate/observables', observables, bearer(token))).json, { data: {} });
    assert.deepEqual((await relay.post('/c1fapp/refer/observables', observables, bearer(token))).json, { data: [] });
    assert.equal(fake.requests.length, 0);
  });

  test('unsupported types and invalid values are never sent upstream', async () => {
    const answer = await observe([
      { type: 'sha256', value: 'a'.repeat(64) },
      { type: 'ipv6', value: '2001:db8::1' },
      { type: 'ip', value: '10.0.0.999' },
      { type: 'domain', value: 'not a domain' },
    ]);
    assert.deepEqual(answer.json, { data: {} });
    assert.equal(fake.requests.length, 0);
  });

  test('the module is also served at / when it is the only one', async () => {
    const answer = await relay.post('/observe/observables', [{ type: 'ip', value: IP }], bearer(token));
    assert.equal(answer.json.data.sightings.count, 1);
  });

  describe('the SECRET_KEY / HS256 flow', () => {
    const body = [{ type: 'domain', value: DOMAIN }];
    const cases: [string, () => Promise<Record<string, string>>, string][] = [
      ['no Authorization header', async () => ({}), 'Authorization header is missing'],
      ['a token without the key', async () => bearer(await hs256Token({ CTR_ENTITIES_LIMIT: 5 })), 'Wrong JWT payload structure'],
      ['a token with an empty key', async () => bearer(await hs256Token({ key: '' })), 'Wrong JWT payload structure'],
      [
        'a token signed with another secret',
        async () => bearer(await hs256Token({ key: KEY }, 'another-secret-0123456789abcdef0123456789abcdef')),
        HS256_MESSAGES.badSignature,
      ],
    ];
    for (const [name, headers, message] of cases) {
      test(`${name} is refused before any upstream call`, async () => {
        const answer = await relay.post('/c1fapp/observe/observables', body, await headers());
        assert.deepEqual(answer.json, { errors: [{ type: 'fatal', code: 'authorization error', message: `Authorization failed: ${message}` }] });
        assert.equal(fake.requests.length, 0);
      });
    }
  });
});

describe('c1fapp scenario (shared suites and benchmark)', () => {
  test('its fake answers every observable, and the calls run concurrently', async () => {
    const fake = await startFakeUpstream(createC1fappHandler({ delayMs: 300 }));
    const relay = await startRelay({ PROVIDERS: 'c1fapp', SECRET_KEY: TEST_SECRET, ...c1fappScenario.envFor(fake.url) });
    try {
      const observables = c1fappScenario.observables(10);
      assert.equal(new Set(observables.map((observable) => observable.value)).size, 10);
      const started = Date.now();
      const answer = await relay.post('/c1fapp/observe/observables', observables, bearer(await hs256Token({ ...c1fappScenario.credentials })));
      const elapsed = Date.now() - started;
      assert.equal(answer.json.errors, undefined);
      assert.equal(answer.json.data.sightings.count, 30);
      // Two feeds, each one stable indicator however many observables it lists.
      assert.equal(answer.json.data.indicators.count, 2);
      assertRelationshipsPointInside(answer.json.data);
      assert.equal(fake.requests.length, 10 * c1fappScenario.callDepth);
      // Ten sequential calls would take 3 s; a generous bound still tells concurrent from sequential.
      assert.ok(elapsed < 2500, `took ${elapsed} ms`);
    } finally {
      await relay.close();
      await fake.close();
    }
  });

  test('its fake refuses a wrong key like the real API', async () => {
    const fake = await startFakeUpstream(c1fappScenario.handler);
    const relay = await startRelay({ PROVIDERS: 'c1fapp', SECRET_KEY: TEST_SECRET, ...c1fappScenario.envFor(fake.url) });
    try {
      const answer = await relay.post('/c1fapp/health', undefined, bearer(await hs256Token({ key: 'wrong' })));
      assert.equal(answer.json.errors[0].code, 'authorization error');
      assert.equal(fake.requests[0]?.url, '/');
    } finally {
      await relay.close();
      await fake.close();
    }
  });
});
