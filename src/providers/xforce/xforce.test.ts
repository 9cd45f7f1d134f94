import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Observable } from '../../core/observables.js';
import { fixture, startFakeUpstream, type FakeHandler, type FakeUpstream } from '../../../test/helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from '../../../test/helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token } from '../../../test/helpers/tokens.js';
import { XFORCE_CREDENTIALS, basicAuthorizationOf, xforceAnswer, xforceHandler } from './test-support/scenario.js';

const UI = 'https://exchange.xforce.example/';
const DISPLAY_NAME = 'IBM X-Force Exchange';

const IP: Observable = { type: 'ip', value: '198.51.100.23' };
const OTHER_IP: Observable = { type: 'ip', value: '203.0.113.9' };
const IPV6: Observable = { type: 'ipv6', value: '2001:db8::7334' };
const DOMAIN: Observable = { type: 'domain', value: 'ibm.com' };
const URL_OBSERVABLE: Observable = { type: 'url', value: 'http://malware.example.net/dropper/update.php?id=7' };
const MD5: Observable = { type: 'md5', value: '84c82835a5d21bbcf75a61706d8ab549' };
const SHA1: Observable = { type: 'sha1', value: '3395856ce81f2b7382dee72602f798b642f14140' };
const SHA256: Observable = { type: 'sha256', value: '091835b16192e526ee1b8a04d0fcef534544cad306672066f2ad6973a4b18b19' };
const ALL_TYPES = [IP, IPV6, DOMAIN, URL_OBSERVABLE, MD5, SHA1, SHA256];

// One suite: the cases share one fake X-Force and one relay, so they run one after another.
describe('xforce', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  let token: string;

  function paths(): string[] {
    return fake.requests.map((request) => request.url).sort();
  }

  async function observe(observables: unknown, authorization = token) {
    return relay.post('/xforce/observe/observables', observables, bearer(authorization));
  }

  type Entity = { id: string; type: string; source?: string; observable?: Observable; observables?: Observable[] };

  function entities(data: Record<string, { docs: Entity[] } | undefined>): Entity[] {
    return ['judgements', 'indicators', 'sightings', 'relationships'].flatMap((key) => data[key]?.docs ?? []);
  }

  function assertRelationshipsJoinPresentEntities(data: Record<string, { docs: Entity[] } | undefined>): void {
    const ids = new Set(entities(data).map((entity) => entity.id));
    for (const rel of (data.relationships?.docs ?? []) as unknown as { source_ref: string; target_ref: string }[]) {
      assert.ok(ids.has(rel.source_ref), `source_ref ${rel.source_ref} is an entity of the answer`);
      assert.ok(ids.has(rel.target_ref), `target_ref ${rel.target_ref} is an entity of the answer`);
    }
  }

  before(async () => {
    fake = await startFakeUpstream(xforceHandler());
    // No cache: the cases answer the same observables differently.
    relay = await startRelay({ PROVIDERS: 'xforce', SECRET_KEY: TEST_SECRET, CACHE: 'off', XFORCE_API_URL: fake.url, XFORCE_UI_URL: UI });
    token = await hs256Token({ ...XFORCE_CREDENTIALS });
  });

  after(async () => {
    await relay.close();
    await fake.close();
  });

  beforeEach(() => {
    fake.requests.length = 0;
    fake.setHandler(xforceHandler());
  });

  describe('health', () => {
    test('checks the credentials with the subscription usage', async () => {
      const answer = await relay.post('/xforce/health', undefined, bearer(token));
      assert.deepEqual(answer.json, { data: { status: 'ok' } });
      assert.deepEqual(paths(), ['/all-subscriptions/usage']);
      assert.equal(fake.requests[0]?.headers.authorization, basicAuthorizationOf(XFORCE_CREDENTIALS));
    });

    test('a wrong password is refused by X-Force: authorization error', async () => {
      const wrong = await hs256Token({ key: XFORCE_CREDENTIALS.key, password: 'wrong' });
      const answer = await relay.post('/xforce/health', undefined, bearer(wrong));
      assert.deepEqual(answer.json, {
        errors: [{ type: 'fatal', code: 'authorization error', message: 'Authorization failed: Authorization failed on IBM X-Force Exchange side' }],
      });
      assert.equal(fake.requests.length, 1);
    });

    test('a token without the password never reaches X-Force', async () => {
      const partial = await hs256Token({ key: XFORCE_CREDENTIALS.key });
      const answer = await relay.post('/xforce/health', undefined, bearer(partial));
      assert.equal(answer.json.errors[0].code, 'authorization error');
      assert.equal(answer.json.errors[0].message, 'Authorization failed: Wrong JWT payload structure');
      assert.equal(fake.requests.length, 0);
    });

    test('X-Force down: service unavailable', async () => {
      fake.setHandler(() => ({ status: 503, body: { error: 'SERVICE UNAVAILABLE.' } }));
      const answer = await relay.post('/xforce/health', undefined, bearer(token));
      assert.equal(answer.json.errors[0].code, 'service unavailable');
    });
  });

  describe('observe', () => {
    test('an ip: report, DNS and collections with the Basic credentials', async () => {
      const answer = await observe([IP]);
      assert.deepEqual(paths(), ['/api/linkage/ip/198.51.100.23?maxpertype=20', '/ipr/198.51.100.23', '/resolve/198.51.100.23']);
      for (const request of fake.requests) {
        assert.equal(request.method, 'GET');
        assert.equal(request.headers.authorization, basicAuthorizationOf(XFORCE_CREDENTIALS));
      }
      const { data } = answer.json;
      assert.equal(answer.json.errors, undefined);
      assert.equal(data.verdicts.count, 1);
      assert.deepEqual([data.verdicts.docs[0].disposition, data.verdicts.docs[0].disposition_name], [2, 'Malicious']);
      assert.equal(data.judgements.count, 3);
      assert.equal(data.sightings.count, 7);
      assert.equal(data.indicators.count, 6);
      assert.equal(data.relationships.count, 9);
      const dns = data.sightings.docs.find((sighting: { title: string }) => sighting.title === 'DNS Information');
      assert.equal(dns.relations.length, 3);
      assert.deepEqual(dns.relations[0].related, IP);
      for (const entity of entities(data)) if (entity.type !== 'relationship') assert.equal(entity.source, DISPLAY_NAME);
      assertRelationshipsJoinPresentEntities(data);
    });

    test('every type: the calls each one needs, one verdict each, relationships complete', async () => {
      const answer = await observe(ALL_TYPES);
      const urlSegment = encodeURIComponent(URL_OBSERVABLE.value);
      assert.deepEqual(
        paths(),
        [
          '/api/linkage/ip/198.51.100.23?maxpertype=20',
          '/api/linkage/ip/2001%3Adb8%3A%3A7334?maxpertype=20',
          `/api/linkage/malware/${MD5.value}?maxpertype=20`,
          `/api/linkage/malware/${SHA1.value}?maxpertype=20`,
          `/api/linkage/malware/${SHA256.value}?maxpertype=20`,
          '/api/linkage/url/ibm.com?maxpertype=20',
          `/api/linkage/url/${urlSegment}?maxpertype=20`,
          '/ipr/198.51.100.23',
          '/ipr/2001%3Adb8%3A%3A7334',
          `/malware/${MD5.value}`,
          `/malware/${SHA1.value}`,
          `/malware/${SHA256.value}`,
          '/resolve/198.51.100.23',
          '/resolve/2001%3Adb8%3A%3A7334',
          '/resolve/ibm.com',
          `/url/${urlSegment}`,
          '/url/ibm.com',
        ].sort(),
      );
      const { data } = answer.json;
      assert.deepEqual(
        data.verdicts.docs.map((verdict: { observable: Observable; disposition_name: string }) => [verdict.observable.type, verdict.disposition_name]).sort(),
        [
          ['domain', 'Unknown'],
          ['ip', 'Malicious'],
          ['ipv6', 'Suspicious'],
          ['md5', 'Malicious'],
          ['sha1', 'Suspicious'],
          ['sha256', 'Unknown'],
          ['url', 'Malicious'],
        ],
      );
      assertRelationshipsJoinPresentEntities(data);
      // A collection holding several observables is one indicator with one id.
      const wannaCry = data.indicators.docs.filter((indicator: { title: string }) => indicator.title === 'WannaCry');
      assert.equal(wannaCry.length, 1);
    });

    test('X-Force knowing nothing (400, 404, 406) is no error', async () => {
      for (const status of [400, 404, 406]) {
        fake.setHandler(() => ({ status, body: fixture(import.meta.url, 'not-found.json') }));
        const answer = await observe([IP, URL_OBSERVABLE, MD5]);
        assert.deepEqual(answer.json, { data: {} }, `status ${status}`);
      }
    });

    test('only collections known: the collection entities alone', async () => {
      fake.setHandler((request) => (request.url.startsWith('/api/linkage/') ? xforceAnswer(request) : { status: 404, body: { error: 'Not found.' } }));
      const { data } = (await observe([MD5])).json;
      assert.equal(data.verdicts, undefined);
      assert.equal(data.sightings.count, 2);
      assert.deepEqual(
        data.relationships.docs.map((rel: { relationship_type: string }) => rel.relationship_type),
        ['member-of', 'member-of'],
      );
    });

    const failures: [number, string, string][] = [
      [401, 'authorization error', 'Authorization failed: Authorization failed on IBM X-Force Exchange side'],
      [403, 'permission denied', 'Unexpected response from IBM X-Force Exchange: 403'],
      [429, 'too many requests', 'Too many requests to IBM X-Force Exchange have been made. Please, try again later.'],
      [500, 'service unavailable', 'The IBM X-Force Exchange is unavailable. Please, try again later.'],
      [502, 'service unavailable', 'The IBM X-Force Exchange is unavailable. Please, try again later.'],
      [503, 'service unavailable', 'The IBM X-Force Exchange is unavailable. Please, try again later.'],
      [504, 'service unavailable', 'The IBM X-Force Exchange is unavailable. Please, try again later.'],
    ];
    for (const [status, code, message] of failures) {
      test(`upstream ${status}: ${code}`, async () => {
        fake.setHandler(() => ({ status, body: { error: 'Failure.' } }));
        const answer = await observe([IP]);
        assert.deepEqual(answer.json, { errors: [{ type: 'fatal', code, message }] });
      });
    }

    test('a changed answer: key error', async () => {
      fake.setHandler((request) =>
        request.url.startsWith('/url/') ? { body: fixture(import.meta.url, 'url-report-changed.json') } : xforceAnswer(request),
      );
      const answer = await observe([DOMAIN]);
      assert.deepEqual(answer.json.errors, [
        { type: 'fatal', code: 'key error', message: 'The data structure of IBM X-Force Exchange has changed. The module is broken.' },
      ]);
    });

    test('one observable failing keeps the others’ entities and reports the error', async () => {
      fake.setHandler((request) => (request.url.includes(OTHER_IP.value) ? { status: 500, body: { error: 'Internal error.' } } : xforceAnswer(request)));
      const answer = await observe([IP, OTHER_IP]);
      assert.deepEqual(answer.json.errors, [
        { type: 'fatal', code: 'service unavailable', message: 'The IBM X-Force Exchange is unavailable. Please, try again later.' },
      ]);
      const { data } = answer.json;
      assert.equal(data.verdicts.count, 1);
      assert.deepEqual(data.verdicts.docs[0].observable, IP);
      assert.equal(data.sightings.count, 7);
      assert.ok(JSON.stringify(data).includes(IP.value));
      assert.ok(!JSON.stringify(data).includes(OTHER_IP.value));
      assertRelationshipsJoinPresentEntities(data);
    });

    test('the calls of one observable run at the same time', async () => {
      let inFlight = 0;
      let most = 0;
      // Its own address, so a late call of an earlier case cannot count.
      const observable: Observable = { type: 'ip', value: '192.0.2.77' };
      const slow: FakeHandler = async (request) => {
        if (!request.url.includes(observable.value)) return xforceAnswer(request);
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 100));
        inFlight -= 1;
        return xforceAnswer(request);
      };
      fake.setHandler(slow);
      const answer = await observe([observable]);
      assert.equal(answer.json.data.verdicts.count, 1);
      assert.equal(most, 3);
    });

    test('no answer within the time limit: service unavailable', async () => {
      const slowFake = await startFakeUpstream(xforceHandler({ delayMs: 2000 }));
      const slowRelay = await startRelay({
        PROVIDERS: 'xforce',
        SECRET_KEY: TEST_SECRET,
        CACHE: 'off',
        XFORCE_API_URL: slowFake.url,
        XFORCE_UI_URL: UI,
        UPSTREAM_TIMEOUT_MS: '200',
      });
      try {
        const answer = await slowRelay.post('/xforce/observe/observables', [IP], bearer(token));
        assert.deepEqual(answer.json, {
          errors: [{ type: 'fatal', code: 'service unavailable', message: 'The IBM X-Force Exchange is unavailable. Please, try again later.' }],
        });
      } finally {
        await slowRelay.close();
        await slowFake.close();
      }
    });
  });

  describe('values reach X-Force encoded, and only valid ones', () => {
    test('a url holding /, ?, #, & and .. stays one path segment of the endpoints it is for', async () => {
      const tricky = 'http://evil.example/../../all-subscriptions/usage?key=1&x=../..#frag';
      await observe([{ type: 'url', value: tricky }]);
      const segment = encodeURIComponent(tricky);
      assert.deepEqual(paths(), [`/api/linkage/url/${segment}?maxpertype=20`, `/url/${segment}`]);
      for (const request of fake.requests) {
        const [path = '', query] = request.url.split('?');
        assert.ok(!request.url.includes('#'));
        const segments = path.split('/').slice(1);
        assert.equal(decodeURIComponent(segments[segments.length - 1]!), tricky);
        assert.equal(query, path.startsWith('/api/linkage/') ? 'maxpertype=20' : undefined);
      }
    });

    test('a domain or ip with path characters is not valid and never sent', async () => {
      const answer = await observe([
        { type: 'ip', value: '1.2.3.4/../../all-subscriptions/usage' },
        { type: 'domain', value: 'example.com/../resolve' },
        { type: 'md5', value: '../../all-subscriptions/usage' },
        { type: 'sha256', value: 'ab?cd' },
        { type: 'email', value: 'someone@example.com' },
      ]);
      assert.deepEqual(answer.json, { data: {} });
      assert.equal(fake.requests.length, 0);
    });
  });

  describe('the entities limit from the token', () => {
    const cases: [number, number, number, number][] = [
      [1, 1, 1, 1],
      [2, 2, 2, 2],
      [5, 5, 5, 3],
    ];
    for (const [limit, sightingCount, indicatorCount, judgementCount] of cases) {
      test(`CTR_ENTITIES_LIMIT ${limit}`, async () => {
        const limited = await hs256Token({ ...XFORCE_CREDENTIALS, CTR_ENTITIES_LIMIT: limit });
        const { data } = (await observe([IP], limited)).json;
        assert.equal(data.verdicts.count, 1);
        assert.equal(data.sightings.count, sightingCount);
        assert.equal(data.indicators.count, indicatorCount);
        assert.equal(data.judgements.count, judgementCount);
        assertRelationshipsJoinPresentEntities(data);
      });
    }

    test('the limit applies per observable', async () => {
      const limited = await hs256Token({ ...XFORCE_CREDENTIALS, CTR_ENTITIES_LIMIT: 1 });
      const { data } = (await observe([IP, DOMAIN, MD5], limited)).json;
      assert.equal(data.verdicts.count, 3);
      // One of each per observable: the ip's and the domain's first category, the file's newest collection.
      assert.equal(data.sightings.count, 3);
      assert.equal(data.indicators.count, 3);
      assert.equal(data.judgements.count, 3);
      assertRelationshipsJoinPresentEntities(data);
    });
  });

  describe('deliberate', () => {
    test('verdicts from the reports alone', async () => {
      const answer = await relay.post('/xforce/deliberate/observables', [IP, DOMAIN, SHA1], bearer(token));
      assert.deepEqual(paths(), [`/malware/${SHA1.value}`, '/ipr/198.51.100.23', '/url/ibm.com'].sort());
      assert.deepEqual(Object.keys(answer.json.data), ['verdicts']);
      assert.deepEqual(
        answer.json.data.verdicts.docs.map((verdict: { observable: Observable; disposition: number }) => [verdict.observable.value, verdict.disposition]),
        [
          [IP.value, 2],
          [DOMAIN.value, 5],
          [SHA1.value, 3],
        ],
      );
      for (const verdict of answer.json.data.verdicts.docs) assert.equal(verdict.judgement_id, undefined);
    });
  });

  describe('refer', () => {
    test('a search link per observable, without a token and without calling X-Force', async () => {
      const answer = await relay.post('/xforce/refer/observables', [IP, URL_OBSERVABLE, SHA256]);
      assert.deepEqual(answer.json, {
        data: [
          {
            id: `ref-ibm-xforce-exchange-search-ip-${IP.value}`,
            title: 'Search for this IP',
            description: 'Lookup this IP on IBM X-Force Exchange',
            url: `${UI}ip/${IP.value}`,
            categories: ['Search', 'IBM X-Force Exchange'],
          },
          {
            id: `ref-ibm-xforce-exchange-search-url-${URL_OBSERVABLE.value}`,
            title: 'Search for this URL',
            description: 'Lookup this URL on IBM X-Force Exchange',
            url: `${UI}url/${encodeURIComponent(URL_OBSERVABLE.value)}`,
            categories: ['Search', 'IBM X-Force Exchange'],
          },
          {
            id: `ref-ibm-xforce-exchange-search-sha256-${SHA256.value}`,
            title: 'Search for this SHA256',
            description: 'Lookup this SHA256 on IBM X-Force Exchange',
            url: `${UI}malware/${SHA256.value}`,
            categories: ['Search', 'IBM X-Force Exchange'],
          },
        ],
      });
      assert.equal(fake.requests.length, 0);
    });
  });
});

describe('x-force calls per observable type, as the original relay', () => {
  // The original: report and linkage for every type, resolve for ips, ipv6s and domains.
  const ORIGINAL_CALLS: [Observable, number][] = [
    [{ type: 'ip', value: '198.51.100.23' }, 3],
    [{ type: 'ipv6', value: '2001:db8::7' }, 3],
    [{ type: 'domain', value: 'host-7.example.com' }, 3],
    [{ type: 'url', value: 'http://host-7.example.com/download.php?id=7' }, 2],
    [{ type: 'md5', value: '7'.padStart(32, '0') }, 2],
    [{ type: 'sha1', value: '7'.padStart(40, '0') }, 2],
    [{ type: 'sha256', value: '7'.padStart(64, '0') }, 2],
  ];
  for (const [observable, calls] of ORIGINAL_CALLS) {
    test(`${observable.type}: ${calls} calls`, async () => {
      const fake = await startFakeUpstream(xforceHandler());
      const relay = await startRelay({ PROVIDERS: 'xforce', SECRET_KEY: TEST_SECRET, XFORCE_API_URL: fake.url, XFORCE_UI_URL: UI });
      try {
        const answer = await relay.post('/xforce/observe/observables', [observable], bearer(await hs256Token(XFORCE_CREDENTIALS)));
        assert.equal(answer.json.errors, undefined);
        assert.equal(fake.requests.length, calls);
      } finally {
        await relay.close();
        await fake.close();
      }
    });
  }
});
