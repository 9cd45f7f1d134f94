// The Pulsedive module through the real relay, against a fake Pulsedive on 127.0.0.1.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, startFakeUpstream, type FakeHandler, type FakeUpstream, type RecordedRequest } from '../../../test/helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from '../../../test/helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token } from '../../../test/helpers/tokens.js';
import { PULSEDIVE_ORIGINAL_CALLS, PULSEDIVE_TEST_KEY, UNKNOWN_DOMAIN_SUFFIX, pulsediveComparisonObservables, pulsediveHandler } from './test-support/scenario.js';

const UI = 'https://pulsedive.example.com/';
const KNOWN_DOMAIN = { type: 'domain', value: 'cdn-update.example.net' };
const KNOWN_IP = { type: 'ip', value: '185.141.25.242' };

function query(request: RecordedRequest): URLSearchParams {
  return new URL(request.url, 'http://fake').searchParams;
}
function pathOf(request: RecordedRequest): string {
  return new URL(request.url, 'http://fake').pathname;
}
function idsOf(data: any): Set<string> {
  const ids = new Set<string>();
  for (const key of ['judgements', 'indicators', 'sightings']) for (const entity of data[key]?.docs ?? []) ids.add(entity.id);
  return ids;
}
function assertRelationshipsConnected(data: any): void {
  const ids = idsOf(data);
  assert.ok((data.relationships?.count ?? 0) > 0, 'some relationships');
  for (const relationship of data.relationships.docs) {
    assert.ok(ids.has(relationship.source_ref), `source ${relationship.source_ref} present`);
    assert.ok(ids.has(relationship.target_ref), `target ${relationship.target_ref} present`);
  }
}
function error(json: any): { code: string; message: string } {
  assert.ok(Array.isArray(json.errors), JSON.stringify(json));
  assert.equal(json.errors.length, 1, JSON.stringify(json.errors));
  assert.equal(json.errors[0].type, 'fatal');
  return json.errors[0];
}
/** Answers `reply` to the info call of `failing` values and the scenario's answer to the rest. */
function failingFor(failing: string, reply: ReturnType<FakeHandler>): FakeHandler {
  const known = pulsediveHandler();
  return (request) => (query(request).get('indicator') === failing ? reply : known(request));
}

describe('the pulsedive module', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  let auth: Record<string, string>;

  before(async () => {
    fake = await startFakeUpstream(pulsediveHandler());
    relay = await startRelay({ PROVIDERS: 'pulsedive', SECRET_KEY: TEST_SECRET, PULSEDIVE_API_URL: fake.url, PULSEDIVE_UI_URL: UI });
    auth = bearer(await hs256Token({ key: PULSEDIVE_TEST_KEY }));
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setHandler(pulsediveHandler());
  });

  describe('health', () => {
    test('reads one indicator with the key', async () => {
      const answer = await relay.post('/pulsedive/health', undefined, auth);
      assert.deepEqual(answer.json, { data: { status: 'ok' } });
      assert.equal(fake.requests.length, 1);
      assert.equal(fake.requests[0]?.url, `/info.php?iid=2&key=${PULSEDIVE_TEST_KEY}`);
    });

    test('a key Pulsedive refuses is an authorization error', async () => {
      const answer = await relay.post('/pulsedive/health', undefined, bearer(await hs256Token({ key: 'wrong-key' })));
      assert.deepEqual(error(answer.json), { type: 'fatal', code: 'authorization error', message: 'Authorization failed: Authorization failed on Pulsedive side' });
      assert.equal(query(fake.requests[0]!).get('key'), 'wrong-key');
    });

    const cases = [
      [{ status: 200, body: fixture(import.meta.url, 'invalid-key.json') }, 'authorization error'],
      [{ status: 403, body: fixture(import.meta.url, 'invalid-key.json') }, 'authorization error'],
      [{ status: 404, body: '<html></html>' }, 'not found'],
      [{ status: 200, body: fixture(import.meta.url, 'not-found.json') }, 'not found'],
      [{ status: 429, body: {} }, 'too many requests'],
      [{ status: 503, body: {} }, 'service unavailable'],
      [{ status: 200, body: 'not json' }, 'key error'],
    ] as const;
    for (const [reply, code] of cases) {
      test(`${reply.status} ${JSON.stringify(reply.body)} → ${code}`, async () => {
        fake.setHandler(() => reply);
        assert.equal(error((await relay.post('/pulsedive/health', undefined, auth)).json).code, code);
      });
    }
  });

  describe('observe', () => {
    test('a known domain: verdict, judgement, indicators, sightings, relationships and Active DNS', async () => {
      const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN], auth);
      const data = answer.json.data;
      assert.equal(answer.json.errors, undefined);
      assert.equal(data.verdicts.count, 1);
      assert.deepEqual(data.verdicts.docs[0].observable, KNOWN_DOMAIN);
      assert.equal(data.verdicts.docs[0].disposition_name, 'Suspicious');
      assert.equal(data.verdicts.docs[0].judgement_id, data.judgements.docs[0].id);
      assert.equal(data.judgements.count, 1);
      assert.match(data.judgements.docs[0].source_uri, /^https:\/\/pulsedive\.example\.com\/indicator\/\?iid=\d+$/);
      assert.equal(data.indicators.count, 5);
      assert.equal(data.sightings.count, 6);
      const activeDns = data.sightings.docs.find((sighting: any) => sighting.title === 'Active DNS');
      assert.deepEqual(activeDns.relations[0].source, KNOWN_DOMAIN);
      assert.equal(activeDns.relations[0].relation, 'Resolved_To');
      assert.equal(data.relationships.count, 5);
      assertRelationshipsConnected(data);

      const calls = fake.requests.map((request) => request.url).sort();
      assert.deepEqual(calls, [
        `/info.php?indicator=cdn-update.example.net&key=${PULSEDIVE_TEST_KEY}`,
        `/info.php?indicator=cdn-update.example.net&key=${PULSEDIVE_TEST_KEY}&get=links`,
      ]);
    });

    test('every relationship of a mixed answer joins entities of the same answer', async () => {
      const observables = [KNOWN_DOMAIN, KNOWN_IP, { type: 'ipv6', value: '2001:db8::1' }, { type: 'url', value: 'http://files.example.org/dl?id=7' }];
      const answer = await relay.post('/pulsedive/observe/observables', observables, auth);
      assert.equal(answer.json.errors, undefined);
      assert.equal(answer.json.data.verdicts.count, 4);
      assertRelationshipsConnected(answer.json.data);
      // Threats and feeds are one indicator each, whichever observables they were seen with.
      const titles = answer.json.data.indicators.docs.map((indicator: any) => indicator.title);
      assert.equal(titles.filter((title: string) => title === 'Threat: Kraken Botnet').length, 1);
      assert.equal(answer.json.data.relationships.count, 20);
      assert.equal(fake.requests.length, 8);
    });

    test('the links call goes out only once the info call has said the indicator is known', async () => {
      let inFlight = 0;
      let most = 0;
      const order: string[] = [];
      const known = pulsediveHandler();
      fake.setHandler(async (request) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        order.push(query(request).get('get') ?? 'info');
        await new Promise((resolve) => setTimeout(resolve, 50));
        inFlight -= 1;
        return known(request);
      });
      const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN], auth);
      assert.equal(answer.json.data.verdicts.count, 1);
      assert.equal(most, 1, 'the links call went out before the info call had answered');
      assert.deepEqual(order, ['info', 'links']);
    });

    test('an indicator Pulsedive does not know costs exactly one call (no links call)', async () => {
      const answer = await relay.post('/pulsedive/observe/observables', [{ type: 'domain', value: `nothing-here.${UNKNOWN_DOMAIN_SUFFIX}` }], auth);
      assert.deepEqual(answer.json, { data: {} });
      assert.equal(fake.requests.length, 1);
      assert.equal(query(fake.requests[0]!).get('get'), null);
    });

    test("the benchmark's 20 observables (8 known, 12 unknown) cost 28 calls, as the original relay's", async () => {
      const observables = pulsediveComparisonObservables();
      assert.equal(observables.length, 20);
      const answer = await relay.post('/pulsedive/observe/observables', observables, auth);
      assert.equal(answer.json.errors, undefined);
      assert.equal(answer.json.data.verdicts.count, 8);
      assert.equal(fake.requests.length, PULSEDIVE_ORIGINAL_CALLS);
      assert.equal(fake.requests.filter((request) => query(request).get('get') === 'links').length, 8);
    });

    test('a value holding / ? # & and .. never changes the endpoint or the key', async () => {
      const value = 'http://evil.example/a/../../admin?key=stolen&get=links&iid=1#frag';
      await relay.post('/pulsedive/observe/observables', [{ type: 'url', value }], auth);
      assert.equal(fake.requests.length, 2);
      for (const request of fake.requests) {
        // Raw, as received: the path before the query is exactly the endpoint, and no fragment.
        assert.equal(request.url.split('?')[0], '/info.php');
        assert.equal(pathOf(request), '/info.php');
        assert.equal(request.url.includes('#'), false);
        const parameters = query(request);
        assert.deepEqual(parameters.getAll('indicator'), [value]);
        assert.deepEqual(parameters.getAll('key'), [PULSEDIVE_TEST_KEY]);
        assert.deepEqual(parameters.getAll('iid'), []);
      }
      assert.deepEqual(fake.requests.map((request) => query(request).getAll('get')).sort(), [[], ['links']]);
    });

    test('one value given with two types is looked up for each', async () => {
      const observables = [
        { type: 'domain', value: 'cdn-update.example.net' },
        { type: 'url', value: 'cdn-update.example.net' },
      ];
      const answer = await relay.post('/pulsedive/observe/observables', observables, auth);
      assert.deepEqual(
        answer.json.data.verdicts.docs.map((verdict: any) => verdict.observable).sort((a: any, b: any) => a.type.localeCompare(b.type)),
        observables,
      );
      // The relay may share one upstream call between the two; each type still gets its entities.
      const infoCalls = fake.requests.filter((request) => query(request).get('get') === null);
      assert.ok(infoCalls.length >= 1);
      assert.ok(infoCalls.every((request) => query(request).get('indicator') === 'cdn-update.example.net'));
      assert.equal(answer.json.data.judgements.count, 2);
    });

    const nothingKnown = [
      { status: 400, body: { error: 'Invalid indicator.' } },
      { status: 404, body: fixture(import.meta.url, 'not-found.json') },
      { status: 406, body: {} },
      { status: 200, body: fixture(import.meta.url, 'not-found.json') },
    ];
    for (const reply of nothingKnown) {
      test(`${reply.status} ${JSON.stringify(reply.body)} means nothing known`, async () => {
        fake.setHandler(() => reply);
        const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN], auth);
        assert.deepEqual(answer.json, { data: {} });
        // The info call only: no links for what Pulsedive does not know.
        assert.equal(fake.requests.length, 1);
      });
    }

    test('known, but without links: no Active DNS sighting', async () => {
      const known = pulsediveHandler();
      fake.setHandler((request) => (query(request).get('get') === 'links' ? { status: 404, body: fixture(import.meta.url, 'not-found.json') } : known(request)));
      const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN], auth);
      assert.equal(answer.json.data.sightings.count, 5);
      assert.equal(answer.json.errors, undefined);
    });

    test('links refused by a rate limit: the info already spent is answered, without Active DNS, next to the error', async () => {
      const known = pulsediveHandler();
      fake.setHandler((request) => (query(request).get('get') === 'links' ? { status: 429, body: { error: 'API rate limit exceeded: 1 requests per second' } } : known(request)));
      const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN], auth);
      assert.equal(answer.json.data.verdicts.count, 1);
      assert.equal(answer.json.data.sightings.docs.some((sighting: any) => sighting.title === 'Active DNS'), false);
      assert.deepEqual(error(answer.json).code, 'too many requests');
    });

    const failures = [
      [{ status: 401, body: fixture(import.meta.url, 'invalid-key.json') }, 'authorization error', 'Authorization failed: Authorization failed on Pulsedive side'],
      [{ status: 403, body: fixture(import.meta.url, 'invalid-key.json') }, 'authorization error', 'Authorization failed: Authorization failed on Pulsedive side'],
      [{ status: 200, body: fixture(import.meta.url, 'invalid-key.json') }, 'authorization error', 'Authorization failed: Authorization failed on Pulsedive side'],
      [{ status: 429, body: {} }, 'too many requests', 'Too many requests to Pulsedive have been made. Please, try again later.'],
      [{ status: 500, body: {} }, 'service unavailable', 'The Pulsedive is unavailable. Please, try again later.'],
      [{ status: 502, body: '<html>Bad Gateway</html>' }, 'service unavailable', 'The Pulsedive is unavailable. Please, try again later.'],
      [{ status: 503, body: {} }, 'service unavailable', 'The Pulsedive is unavailable. Please, try again later.'],
      [{ status: 504, body: {} }, 'service unavailable', 'The Pulsedive is unavailable. Please, try again later.'],
      [{ status: 200, body: fixture(import.meta.url, 'processing.json') }, 'unknown', 'Unexpected response from Pulsedive: Request(s) still processing.'],
      [{ status: 418, body: {} }, 'unknown', 'Unexpected response from Pulsedive: 418'],
      [{ status: 200, body: 'not json' }, 'key error', 'The data structure of Pulsedive has changed. The module is broken.'],
      [{ status: 200, body: fixture(import.meta.url, 'changed-shape.json') }, 'key error', 'The data structure of Pulsedive has changed. The module is broken.'],
    ] as const;
    for (const [reply, code, message] of failures) {
      test(`${reply.status} ${JSON.stringify(reply.body).slice(0, 60)} → ${code}, the other observable kept`, async () => {
        fake.setHandler(failingFor(KNOWN_IP.value, reply));
        const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN, KNOWN_IP], auth);
        assert.deepEqual(error(answer.json), { type: 'fatal', code, message });
        assert.equal(answer.json.data.verdicts.count, 1);
        assert.deepEqual(answer.json.data.verdicts.docs[0].observable, KNOWN_DOMAIN);
        assertRelationshipsConnected(answer.json.data);
      });
    }

    test('an error text echoing the key never reaches the answer', async () => {
      fake.setHandler(() => ({ status: 200, body: { error: `Unknown parameter combination for ${PULSEDIVE_TEST_KEY}.` } }));
      const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN], auth);
      assert.equal(error(answer.json).message, 'Unexpected response from Pulsedive: Unknown parameter combination for ***.');
      assert.doesNotMatch(JSON.stringify(answer.json), new RegExp(PULSEDIVE_TEST_KEY));
    });

    test('the token limit caps each observable\'s sightings and indicators, newest first', async () => {
      const limited = bearer(await hs256Token({ key: PULSEDIVE_TEST_KEY, CTR_ENTITIES_LIMIT: 1 }));
      const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN, KNOWN_IP], limited);
      const data = answer.json.data;
      assert.equal(data.verdicts.count, 2);
      assert.equal(data.judgements.count, 2);
      assert.equal(data.sightings.count, 2);
      assert.equal(data.indicators.count, 2);
      assert.deepEqual(data.sightings.docs.map((sighting: any) => sighting.title), ['found in threat feeds', 'found in threat feeds']);
      assert.equal(data.relationships.count, 2);
      assertRelationshipsConnected(data);
    });

    test('unsupported and invalid observables are dropped before any call', async () => {
      const answer = await relay.post('/pulsedive/observe/observables', [{ type: 'sha256', value: 'a'.repeat(64) }, { type: 'ip', value: 'not-an-ip' }], auth);
      assert.deepEqual(answer.json, { data: {} });
      assert.equal(fake.requests.length, 0);
    });

    test('a token without the key is refused before any call', async () => {
      const answer = await relay.post('/pulsedive/observe/observables', [KNOWN_DOMAIN], bearer(await hs256Token({ password: 'x' })));
      assert.deepEqual(error(answer.json), { type: 'fatal', code: 'authorization error', message: 'Authorization failed: Wrong JWT payload structure' });
      assert.equal(fake.requests.length, 0);
    });

    test('the only module is also served at /', async () => {
      const answer = await relay.post('/observe/observables', [KNOWN_DOMAIN], auth);
      assert.equal(answer.json.data.verdicts.count, 1);
    });
  });

  describe('deliberate', () => {
    test('verdicts only, from the info call alone', async () => {
      const answer = await relay.post('/pulsedive/deliberate/observables', [KNOWN_DOMAIN, KNOWN_IP], auth);
      assert.deepEqual(Object.keys(answer.json.data), ['verdicts']);
      assert.equal(answer.json.data.verdicts.count, 2);
      for (const verdict of answer.json.data.verdicts.docs) {
        assert.equal(verdict.type, 'verdict');
        assert.equal(verdict.disposition, 3);
        assert.equal(verdict.disposition_name, 'Suspicious');
        assert.ok(verdict.valid_time.start_time < verdict.valid_time.end_time);
      }
      assert.equal(fake.requests.length, 2);
      assert.ok(fake.requests.every((request) => query(request).get('get') === null));
    });

    test('nothing known gives no verdict', async () => {
      fake.setHandler(() => ({ status: 404, body: fixture(import.meta.url, 'not-found.json') }));
      assert.deepEqual((await relay.post('/pulsedive/deliberate/observables', [KNOWN_DOMAIN], auth)).json, { data: {} });
    });
  });

  describe('refer', () => {
    afterEach(() => fake.setHandler(pulsediveHandler()));

    test('a search link for every observable, a browse link for the known ones', async () => {
      const unknown = { type: 'ipv6', value: '2001:db8::404' };
      fake.setHandler(failingFor(unknown.value, { status: 404, body: fixture(import.meta.url, 'not-found.json') }));
      const answer = await relay.post('/pulsedive/refer/observables', [KNOWN_DOMAIN, unknown], auth);
      const links = answer.json.data;
      assert.equal(answer.json.errors, undefined);
      assert.deepEqual(links.map((link: any) => link.id).sort(), [
        'ref-pulsedive-detail-domain-cdn-update.example.net',
        'ref-pulsedive-search-domain-cdn-update.example.net',
        'ref-pulsedive-search-ipv6-2001%3Adb8%3A%3A404',
      ]);
      const browse = links.find((link: any) => link.id.startsWith('ref-pulsedive-detail-'));
      assert.deepEqual({ ...browse, url: undefined }, {
        id: 'ref-pulsedive-detail-domain-cdn-update.example.net',
        title: 'Browse domain',
        description: 'Browse this domain on Pulsedive',
        url: undefined,
        categories: ['Browse', 'Pulsedive'],
      });
      assert.match(browse.url, /^https:\/\/pulsedive\.example\.com\/indicator\/\?iid=\d+$/);
      for (const observable of [KNOWN_DOMAIN, unknown]) {
        const search = links.find((link: any) => link.id === `ref-pulsedive-search-${observable.type}-${encodeURIComponent(observable.value)}`);
        assert.deepEqual(search.categories, ['Search', 'Pulsedive']);
        const url = new URL(search.url);
        assert.equal(url.origin + url.pathname, 'https://pulsedive.example.com/browse/');
        const browseQuery = JSON.parse(Buffer.from(url.searchParams.get('q') ?? '', 'base64').toString('utf8'));
        assert.equal(browseQuery.indicator[0].raw.value, observable.value);
      }
    });

    test('needs the token, as it looks the values up', async () => {
      const answer = await relay.post('/pulsedive/refer/observables', [KNOWN_DOMAIN]);
      assert.deepEqual(error(answer.json), { type: 'fatal', code: 'authorization error', message: 'Authorization failed: Authorization header is missing' });
      assert.equal(fake.requests.length, 0);
    });

    test('a failed lookup costs only its browse link: the search link stays, the others keep theirs', async () => {
      fake.setHandler(failingFor(KNOWN_IP.value, { status: 503, body: {} }));
      const answer = await relay.post('/pulsedive/refer/observables', [KNOWN_DOMAIN, KNOWN_IP], auth);
      assert.equal(answer.json.errors, undefined);
      const ids = answer.json.data.map((link: { id: string }) => link.id);
      assert.equal(ids.length, 3);
      assert.ok(ids.includes(`ref-pulsedive-search-ip-${encodeURIComponent(KNOWN_IP.value)}`));
      assert.ok(!ids.includes(`ref-pulsedive-detail-ip-${encodeURIComponent(KNOWN_IP.value)}`));
    });

    test('a refused key in refer is reported', async () => {
      fake.setHandler(failingFor(KNOWN_IP.value, { status: 401, body: {} }));
      const answer = await relay.post('/pulsedive/refer/observables', [KNOWN_IP], auth);
      assert.equal(error(answer.json).code, 'authorization error');
    });
  });
});

describe('pulsedive under its default rate limit (60 a minute, per key)', () => {
  test('three back-to-back 20-observable requests: two complete, the third answers at once what the quota allows', async () => {
    const fake = await startFakeUpstream(pulsediveHandler());
    const relay = await startRelay({ PROVIDERS: 'pulsedive', SECRET_KEY: TEST_SECRET, RATE_LIMITS: 'on', PULSEDIVE_API_URL: fake.url, PULSEDIVE_UI_URL: UI });
    const auth = bearer(await hs256Token({ key: PULSEDIVE_TEST_KEY }));
    try {
      const started = performance.now();
      const answers = [];
      for (let round = 0; round < 3; round += 1) answers.push(await relay.post('/pulsedive/observe/observables', pulsediveComparisonObservables(round), auth));
      const seconds = (performance.now() - started) / 1000;
      const [first, second, third] = answers;
      for (const complete of [first!, second!]) {
        assert.equal(complete.json.errors, undefined, JSON.stringify(complete.json.errors));
        assert.equal(complete.json.data.verdicts.count, 8);
      }
      // The third finds 4 tokens (60 − 2 × 28) and the few that came meanwhile; the rest is refused at once.
      assert.ok(seconds < 10, `the three took ${seconds.toFixed(1)} s: something waited for tokens it would not get`);
      assert.deepEqual(
        third!.json.errors.map((error: { code: string }) => error.code),
        ['too many requests'],
      );
      assert.ok(Number(third!.headers.get('retry-after')) >= 1, 'a Retry-After for what was refused');
      // What it could: the values whose info call got a token (known ones without Active DNS if links did not).
      assert.ok((third!.json.data?.verdicts?.count ?? 0) >= 1, JSON.stringify(third!.json));
      assert.ok(fake.requests.length <= 60 + Math.ceil(seconds) + 1, `${fake.requests.length} calls in ${seconds.toFixed(1)} s`);
      assert.equal(fake.requests.length - 2 * PULSEDIVE_ORIGINAL_CALLS >= 4, true);
    } finally {
      await relay.close();
      await fake.close();
    }
  });
});
