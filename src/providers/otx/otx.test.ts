// The module end to end: the relay as a server, OTX as a fake on 127.0.0.1 that checks the key.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Observable } from '../../core/observables.js';
import { fixture, startFakeUpstream, type FakeHandler, type FakeUpstream } from '../../../test/helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from '../../../test/helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token } from '../../../test/helpers/tokens.js';
import { KNOWN, OTX_TEST_KEY, PULSES, otxFixtureHandler } from './test-support/fixture-handler.js';
import { OTX_ORIGINAL_CALLS, otxComparisonObservables, otxScenario, shapedDomain } from './test-support/scenario.js';

const KEY_HEADER = 'x-otx-api-key';
const OTHER_TYPES: Observable[] = (['ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256'] as const).map((type) => ({ type, value: KNOWN[type] }));
const IP: Observable = { type: 'ip', value: KNOWN.ip };
const EMAIL: Observable = { type: 'email', value: 'billing@invoices.example.com' };
const PAGE_QUERY = 'sort=-created&limit=10000&page=';

type Entity = { id: string; type: string; title?: string; external_ids?: string[]; observables?: Observable[]; observed_time?: { start_time: string; end_time: string } };
type Data = Record<string, { count: number; docs: Entity[] } | undefined>;

function assertRelationshipsJoinPresentEntities(data: Data): void {
  const ids = new Set(['indicators', 'sightings'].flatMap((key) => data[key]?.docs ?? []).map((entity) => entity.id));
  const relationships = (data.relationships?.docs ?? []) as unknown as { source_ref: string; target_ref: string; relationship_type: string }[];
  for (const relationship of relationships) {
    assert.equal(relationship.relationship_type, 'member-of');
    assert.ok(ids.has(relationship.source_ref), `source_ref ${relationship.source_ref} is an entity of the answer`);
    assert.ok(ids.has(relationship.target_ref), `target_ref ${relationship.target_ref} is an entity of the answer`);
  }
}

function sightingsByPulse(data: Data): Record<string, Entity> {
  return Object.fromEntries((data.sightings?.docs ?? []).map((sighting) => [sighting.external_ids![0]!, sighting]));
}

// One suite: the cases share one fake OTX and one relay, so they run one after another.
describe('otx', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  let token: string;

  const urls = (): string[] => fake.requests.map((request) => request.url).sort();
  const observe = (observables: unknown, authorization = token) => relay.post('/otx/observe/observables', observables, bearer(authorization));

  /** The fixture fake, except for the values `overrides` answers itself. */
  function withOverrides(overrides: (url: string) => ReturnType<FakeHandler> | undefined): FakeHandler {
    const fixtures = otxFixtureHandler();
    return (request) => overrides(request.url) ?? fixtures(request);
  }

  before(async () => {
    fake = await startFakeUpstream(otxFixtureHandler());
    // A budget of 6 calls: the general lookup and 5 pages (see the IP case below). No cache: the
    // cases count the calls and change the fake's answers.
    relay = await startRelay({ PROVIDERS: 'otx', SECRET_KEY: TEST_SECRET, OTX_API_URL: fake.url, OTX_MAX_CALLS_PER_OBSERVABLE: '6', CACHE: 'off' });
    token = await hs256Token({ key: OTX_TEST_KEY });
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setHandler(otxFixtureHandler());
  });

  test('health asks for the key’s own user, with the key in X-OTX-API-KEY', async () => {
    assert.deepEqual((await relay.post('/otx/health', undefined, bearer(token))).json, { data: { status: 'ok' } });
    assert.deepEqual(urls(), ['/api/v1/user/me']);
    assert.equal(fake.requests[0]!.headers[KEY_HEADER], OTX_TEST_KEY);
  });

  test('health with a key OTX refuses is an authorization error', async () => {
    const answer = await relay.post('/otx/health', undefined, bearer(await hs256Token({ key: 'wrong-key' })));
    assert.deepEqual(answer.json, {
      errors: [{ type: 'fatal', code: 'authorization error', message: 'Authorization failed: Authorization failed on AlienVault OTX side' }],
    });
  });

  const healthStatuses: [number, string][] = [
    [400, 'invalid argument'],
    [404, 'not found'],
    [429, 'too many requests'],
    [500, 'service unavailable'],
    [503, 'service unavailable'],
  ];
  for (const [status, code] of healthStatuses) {
    test(`health: upstream ${status} is ${code}`, async () => {
      fake.setHandler(() => ({ status, body: { detail: 'x' } }));
      const answer = await relay.post('/otx/health', undefined, bearer(token));
      assert.equal(answer.json.errors[0].code, code);
    });
  }

  test('a token without the key, or with a key no header can carry, never reaches OTX', async () => {
    const missing = await observe([IP], await hs256Token({ api_key: OTX_TEST_KEY }));
    assert.equal(missing.json.errors[0].message, 'Authorization failed: Wrong JWT payload structure');
    const unusable = await observe([IP], await hs256Token({ key: 'abc\r\nX-Injected: 1' }));
    assert.equal(unusable.json.errors[0].code, 'authorization error');
    assert.equal(fake.requests.length, 0);
  });

  test('an IP in four pulses: one dropped, one found on page 1, one on page 2, one too large for the budget', async () => {
    const answer = await observe([IP]);
    assert.equal(answer.json.errors, undefined);
    const data: Data = answer.json.data;
    assert.equal(data.indicators!.count, 3);
    assert.equal(data.sightings!.count, 3);
    assert.equal(data.relationships!.count, 3);
    assertRelationshipsJoinPresentEntities(data);

    // Exactly the budget: the general lookup, every first page, then the second pages; the
    // dropped pulse is never searched and the search of the pulse found on page 1 stops there.
    assert.deepEqual(urls(), [
      `/api/v1/indicators/IPv4/${KNOWN.ip}/general`,
      `/api/v1/pulses/${PULSES.scanner}/indicators?${PAGE_QUERY}1`,
      `/api/v1/pulses/${PULSES.scanner}/indicators?${PAGE_QUERY}2`,
      `/api/v1/pulses/${PULSES.emotet}/indicators?${PAGE_QUERY}1`,
      `/api/v1/pulses/${PULSES.emotet}/indicators?${PAGE_QUERY}2`,
      `/api/v1/pulses/${PULSES.honeypot}/indicators?${PAGE_QUERY}1`,
    ].sort());
    assert.ok(fake.requests.every((request) => request.headers[KEY_HEADER] === OTX_TEST_KEY));

    const sightings = sightingsByPulse(data);
    assert.deepEqual(sightings[PULSES.honeypot]!.observed_time, { start_time: '2024-01-12T00:00:07.000Z', end_time: '2024-01-12T00:00:07.000Z' });
    assert.deepEqual(sightings[PULSES.emotet]!.observed_time, { start_time: '2023-07-19T14:02:11.000Z', end_time: '2023-07-19T14:02:11.000Z' });
    // Not found within the budget: the pulse's own created/modified times.
    assert.deepEqual(sightings[PULSES.scanner]!.observed_time, { start_time: '2020-08-07T18:20:28.512Z', end_time: '2023-11-30T02:00:13.930Z' });
    // Newest first.
    assert.deepEqual(
      data.sightings!.docs.map((sighting) => sighting.external_ids![0]),
      [PULSES.honeypot, PULSES.emotet, PULSES.scanner],
    );
    const emotet = data.indicators!.docs.find((indicator) => indicator.external_ids![0] === PULSES.emotet) as Record<string, unknown>;
    assert.equal(emotet.source_uri, `${fake.url}pulse/${PULSES.emotet}`);
    assert.deepEqual(emotet.valid_time, { start_time: '2023-07-19T14:02:11.000Z', end_time: '2023-08-18T14:00:00.000Z' });
    assert.equal(emotet.producer, 'threat-research-lab');
  });

  test('the entities limit comes from the token: the newest pulses are kept, relationships follow', async () => {
    const answer = await observe([IP], await hs256Token({ key: OTX_TEST_KEY, CTR_ENTITIES_LIMIT: 2 }));
    const data: Data = answer.json.data;
    assert.equal(data.sightings!.count, 2);
    assert.equal(data.indicators!.count, 2);
    assert.equal(data.relationships!.count, 2);
    assert.deepEqual(Object.keys(sightingsByPulse(data)).sort(), [PULSES.emotet, PULSES.honeypot].sort());
    assertRelationshipsJoinPresentEntities(data);
  });

  test('every type: one general lookup each (none for email), the shared pulse is one indicator', async () => {
    const answer = await observe([IP, ...OTHER_TYPES, EMAIL]);
    assert.equal(answer.json.errors, undefined);
    const data: Data = answer.json.data;
    // The IP's three pulses plus the multi-type pulse once, whatever the number of its sightings.
    assert.equal(data.indicators!.count, 4);
    assert.equal(data.sightings!.count, 3 + OTHER_TYPES.length);
    assert.equal(data.relationships!.count, 3 + OTHER_TYPES.length);
    assertRelationshipsJoinPresentEntities(data);
    const multiTypeSightings = data.sightings!.docs.filter((sighting) => sighting.external_ids![0] === PULSES.multiType);
    assert.deepEqual(
      multiTypeSightings.map((sighting) => sighting.observables![0]!).sort((a, b) => a.type.localeCompare(b.type)),
      [...OTHER_TYPES].sort((a, b) => a.type.localeCompare(b.type)),
    );
    const generals = urls().filter((url) => url.endsWith('/general'));
    assert.deepEqual(generals, [
      `/api/v1/indicators/IPv4/${KNOWN.ip}/general`,
      `/api/v1/indicators/IPv6/${encodeURIComponent(KNOWN.ipv6)}/general`,
      `/api/v1/indicators/domain/${KNOWN.domain}/general`,
      `/api/v1/indicators/file/${KNOWN.md5}/general`,
      `/api/v1/indicators/file/${KNOWN.sha1}/general`,
      `/api/v1/indicators/file/${KNOWN.sha256}/general`,
      `/api/v1/indicators/url/${encodeURIComponent(KNOWN.url)}/general`,
    ].sort());
    // Each observable searches the shared pulse; the core's single-flight may answer several with one call.
    const multiTypePages = urls().filter((url) => url.startsWith(`/api/v1/pulses/${PULSES.multiType}/`));
    assert.ok(multiTypePages.length >= 1 && multiTypePages.length <= OTHER_TYPES.length, String(multiTypePages.length));
    assert.ok(multiTypePages.every((url) => url === `/api/v1/pulses/${PULSES.multiType}/indicators?${PAGE_QUERY}1`));
    assert.ok(!urls().some((url) => url.includes('email') || url.includes('invoices')));
  });

  test('values never change the endpoint: a url with / ? # & and .. stays one path segment', async () => {
    const tricky = ['http://evil.example.net/a/../../user/me?x=1#frag&y=2', 'http://evil.example.net/..', 'http://evil.example.net/%2e%2e/?&#'];
    const answer = await observe(tricky.map((value) => ({ type: 'url', value })));
    assert.deepEqual(answer.json, { data: {} });
    assert.equal(fake.requests.length, tricky.length);
    for (const request of fake.requests) {
      assert.equal(request.url.includes('?'), false, request.url);
      assert.equal(request.url.includes('#'), false, request.url);
      const segments = request.url.split('/');
      assert.equal(segments.length, 7, request.url);
      assert.deepEqual([segments[1], segments[2], segments[3], segments[4], segments[6]], ['api', 'v1', 'indicators', 'url', 'general']);
    }
    assert.deepEqual(fake.requests.map((request) => decodeURIComponent(request.url.split('/')[5]!)).sort(), [...tricky].sort());
  });

  test('pulse ids from OTX are encoded too: an id holding ../ and ? cannot reach another endpoint', async () => {
    const general = fixture(import.meta.url, 'general-ip.json') as { pulse_info: { pulses: { id: string }[] } };
    const hostileId = '../../user/me?page=9#';
    general.pulse_info.pulses[3]!.id = hostileId;
    fake.setHandler(withOverrides((url) => (url.endsWith('/general') ? { body: general } : undefined)));
    const answer = await observe([IP]);
    assert.equal(answer.json.errors, undefined);
    assert.ok(urls().includes(`/api/v1/pulses/${encodeURIComponent(hostileId)}/indicators?${PAGE_QUERY}1`));
    assert.equal(urls().includes('/api/v1/user/me'), false);
    // The pulse OTX would not answer for still gives its sighting, linked with the encoded id.
    const indicator = answer.json.data.indicators.docs.find((candidate: Entity) => candidate.external_ids![0] === hostileId);
    assert.equal(indicator.source_uri, `${fake.url}pulse/${encodeURIComponent(hostileId)}`);
  });

  test('400 and 404 from the general lookup mean nothing known', async () => {
    for (const status of [400, 404]) {
      fake.setHandler(() => ({ status, body: { detail: 'Not found.' } }));
      assert.deepEqual((await observe([IP])).json, { data: {} });
    }
  });

  test('an observable OTX has no pulse for gives nothing, after one call', async () => {
    assert.deepEqual((await observe([{ type: 'ip', value: '192.0.2.200' }])).json, { data: {} });
    assert.deepEqual(urls(), ['/api/v1/indicators/IPv4/192.0.2.200/general']);
  });

  const failures: [number, string, string][] = [
    [403, 'authorization error', 'Authorization failed: Authorization failed on AlienVault OTX side'],
    [429, 'too many requests', 'Too many requests to AlienVault OTX have been made. Please, try again later.'],
    [500, 'service unavailable', 'The AlienVault OTX is unavailable. Please, try again later.'],
    [502, 'service unavailable', 'The AlienVault OTX is unavailable. Please, try again later.'],
    [503, 'service unavailable', 'The AlienVault OTX is unavailable. Please, try again later.'],
    [418, 'unknown', 'Unexpected response from AlienVault OTX: 418'],
  ];
  for (const [status, code, message] of failures) {
    test(`upstream ${status} is ${code}; the other observables’ entities are kept`, async () => {
      fake.setHandler(withOverrides((url) => (url.includes(`/${KNOWN.md5}/`) ? { status, body: { detail: 'x' } } : undefined)));
      const answer = await observe([{ type: 'md5', value: KNOWN.md5 }, IP]);
      assert.deepEqual(answer.json.errors, [{ type: 'fatal', code, message }]);
      assert.equal(answer.json.data.sightings.count, 3);
      assertRelationshipsJoinPresentEntities(answer.json.data);
    });
  }

  test('a failing page keeps the pulse, with its own times; nothing is reported as an error', async () => {
    fake.setHandler(withOverrides((url) => (url.startsWith(`/api/v1/pulses/${PULSES.honeypot}/`) ? { status: 502, body: 'Bad Gateway' } : undefined)));
    const answer = await observe([IP]);
    assert.equal(answer.json.errors, undefined);
    const sightings = sightingsByPulse(answer.json.data);
    assert.deepEqual(sightings[PULSES.honeypot]!.observed_time, { start_time: '2024-01-12T00:00:05.000Z', end_time: '2024-01-12T06:30:10.552Z' });
  });

  test('a changed answer is a key error: the general lookup, or a page', async () => {
    const keyError = [{ type: 'fatal', code: 'key error', message: 'The data structure of AlienVault OTX has changed. The module is broken.' }];
    fake.setHandler(withOverrides((url) => (url.endsWith('/general') ? { body: fixture(import.meta.url, 'general-changed-shape.json') } : undefined)));
    assert.deepEqual((await observe([IP])).json, { errors: keyError });
    fake.setHandler(withOverrides((url) => (url.includes('/indicators?') ? { body: { count: 3, results: 'none' } } : undefined)));
    assert.deepEqual((await observe([IP])).json, { errors: keyError });
    fake.setHandler(withOverrides((url) => (url.endsWith('/general') ? { body: '<html>maintenance</html>' } : undefined)));
    assert.deepEqual((await observe([IP])).json, { errors: keyError });
  });

  test('deliberate has no verdict data', async () => {
    assert.deepEqual((await relay.post('/otx/deliberate/observables', [IP], bearer(token))).json, { data: {} });
    assert.equal(fake.requests.length, 0);
  });

  test('refer links every type, email included, without calling OTX', async () => {
    const answer = await relay.post('/otx/refer/observables', [IP, ...OTHER_TYPES, EMAIL, { type: 'hostname', value: 'a.example.com' }]);
    const base = fake.url.replace(/\/$/, '');
    assert.deepEqual(
      answer.json.data.map((link: { url: string }) => link.url),
      [
        `${base}/indicator/ip/${KNOWN.ip}`,
        `${base}/indicator/ip/${KNOWN.ipv6}`,
        `${base}/indicator/domain/${KNOWN.domain}`,
        `${base}/indicator/url/http:%2F%2Fcdn-update.example.net%2Fgate.php%3Fid%3D7%26campaign%3Doct`,
        `${base}/indicator/file/${KNOWN.md5}`,
        `${base}/indicator/file/${KNOWN.sha1}`,
        `${base}/indicator/file/${KNOWN.sha256}`,
        `${base}/indicator/email/${EMAIL.value}`,
      ],
    );
    assert.deepEqual(answer.json.data[7], {
      id: 'ref-avotx-search-email-billing%40invoices.example.com',
      title: 'Search for this email',
      description: 'Lookup this email on AlienVault OTX',
      url: `${base}/indicator/email/billing@invoices.example.com`,
      categories: ['Search', 'AlienVault OTX'],
    });
    assert.equal(fake.requests.length, 0);
  });

  test('pulse searches that outlast OTX_SEARCH_TIMEOUT_MS end; their pulses keep their own times', async () => {
    const quick = await startRelay({ PROVIDERS: 'otx', SECRET_KEY: TEST_SECRET, OTX_API_URL: fake.url, OTX_SEARCH_TIMEOUT_MS: '500', CACHE: 'off' });
    const fixtures = otxFixtureHandler();
    fake.setHandler(async (request) => {
      const reply = await fixtures(request);
      return request.url.startsWith(`/api/v1/pulses/${PULSES.emotet}/`) ? { ...reply, delayMs: 4000 } : reply;
    });
    try {
      const started = Date.now();
      const answer = await quick.post('/otx/observe/observables', [IP], bearer(token));
      assert.ok(Date.now() - started < 3000, 'answered without waiting for the slow pulse');
      const sightings = sightingsByPulse(answer.json.data);
      assert.deepEqual(sightings[PULSES.emotet]!.observed_time, { start_time: '2023-07-19T13:55:02.118Z', end_time: '2023-08-02T09:12:44.306Z' });
      assert.deepEqual(sightings[PULSES.honeypot]!.observed_time, { start_time: '2024-01-12T00:00:07.000Z', end_time: '2024-01-12T00:00:07.000Z' });
    } finally {
      await quick.close();
    }
  });
});

/** A fake OTX from the scenario, a token for it, one of its observables, and relays in front of it. */
async function scenarioSetup() {
  const fake = await startFakeUpstream(otxScenario.handler);
  const token = bearer(await hs256Token({ ...otxScenario.credentials }));
  const [observable] = otxScenario.observables(1);
  const relayWith = (env: Record<string, string>) => startRelay({ PROVIDERS: 'otx', SECRET_KEY: TEST_SECRET, ...otxScenario.envFor(fake.url), ...env });
  return { fake, token, observable, relayWith };
}

describe('page hints', () => {
  test('with the cache on, a later search goes straight to the page the observable was found on; with it off, never', async () => {
    const { fake, token, observable, relayWith } = await scenarioSetup();
    // One cached answer at most: the pages are gone from the cache by the second lookup, the hints are not.
    const cached = await relayWith({ CACHE: 'on', CACHE_MAX_ENTRIES: '1' });
    const uncached = await relayWith({ CACHE: 'off' });
    try {
      const callsFor = async (relay: RunningRelay) => {
        const before = fake.requests.length;
        const answer = await relay.post('/otx/observe/observables', [observable], token);
        assert.equal(answer.json.errors, undefined);
        assert.equal(answer.json.data.sightings.count, 5);
        return fake.requests.length - before;
      };
      assert.equal(await callsFor(cached), 16);
      assert.equal(await callsFor(cached), 6, 'general, then the remembered page of each of the 5 pulses');
      assert.equal(await callsFor(uncached), 16);
      assert.equal(await callsFor(uncached), 16);
    } finally {
      await cached.close();
      await uncached.close();
      await fake.close();
    }
  });
});

describe('warm lookups', () => {
  test("a cached general answer keeps the observable's entry in each pulse: a warm lookup reads one cached answer", async () => {
    const { fake, token, observable, relayWith } = await scenarioSetup();
    const relay = await relayWith({ CACHE: 'on' });
    try {
      const cacheHits = async (): Promise<number> => {
        const text = await (await fetch(`${relay.url}/metrics`)).text();
        return Number(/^ctr_relay_cache_hits_total\{provider="otx"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      };
      const lookup = async () => {
        const calls = fake.requests.length;
        const hits = await cacheHits();
        const answer = await relay.post('/otx/observe/observables', [observable], token);
        assert.equal(answer.json.errors, undefined);
        return { calls: fake.requests.length - calls, hits: (await cacheHits()) - hits, sightings: answer.json.data.sightings.docs as Entity[] };
      };
      const times = (sightings: Entity[]) => sightings.map((sighting) => [sighting.title, sighting.observed_time]);
      const cold = await lookup();
      assert.deepEqual([cold.calls, cold.hits], [16, 0]);
      const second = await lookup();
      assert.deepEqual([second.calls, second.hits], [0, 6], 'the general answer, then the remembered page of each pulse');
      const third = await lookup();
      assert.deepEqual([third.calls, third.hits], [0, 1], 'the general answer only');
      assert.equal(third.sightings.length, 5);
      assert.deepEqual(times(third.sightings), times(cold.sightings));
    } finally {
      await relay.close();
      await fake.close();
    }
  });
});

/** A fake answering after `delayMs` that notes each call's round trip: one more than the deepest answered before it started. */
function depthRecording(handler: FakeHandler, delayMs: number): { handler: FakeHandler; depth(): number; reset(): void } {
  let answered: number[] = [];
  let deepest = 0;
  return {
    handler: async (request) => {
      const depth = 1 + Math.max(0, ...answered);
      deepest = Math.max(deepest, depth);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      answered.push(depth);
      return handler(request);
    },
    depth: () => deepest,
    reset: () => {
      answered = [];
      deepest = 0;
    },
  };
}

describe('otx scenario (for the shared suites and the benchmark)', () => {
  test('each observable is in 5 pulses of 3 pages: 16 calls, all found', async () => {
    const fake = await startFakeUpstream(otxScenario.handler);
    const relay = await startRelay({ PROVIDERS: 'otx', SECRET_KEY: TEST_SECRET, ...otxScenario.envFor(fake.url) });
    try {
      const observables = otxScenario.observables(7);
      assert.deepEqual(
        observables.map((observable) => observable.type),
        ['ip', 'domain', 'url', 'md5', 'sha1', 'sha256', 'ipv6'],
      );
      const answer = await relay.post('/otx/observe/observables', observables, bearer(await hs256Token({ ...otxScenario.credentials })));
      assert.equal(answer.json.errors, undefined);
      assert.equal(answer.json.data.sightings.count, 7 * 5);
      assert.equal(fake.requests.length, 7 * 16);
      assert.equal(otxScenario.callDepth, 3);
      // Found on the last page, so no sighting falls back to its pulse's times.
      assert.ok(answer.json.data.sightings.docs.every((sighting: Entity) => sighting.observed_time!.start_time.endsWith('T08:05:00.000Z')));
      const refused = await relay.post('/otx/health', undefined, bearer(await hs256Token({ key: 'not-the-key' })));
      assert.equal(refused.json.errors[0].code, 'authorization error');
    } finally {
      await relay.close();
      await fake.close();
    }
  });

  test('pages: three round trips at most for any number of them, and never past OTX_MAX_CALLS_PER_OBSERVABLE', async () => {
    // One observable at a time, each answer 250 ms late: calls sent together reach the fake
    // together, even with the event loop stalled by a loaded machine.
    const recorded = depthRecording(otxScenario.handler, 250);
    const fake = await startFakeUpstream(recorded.handler);
    const relay = await startRelay({ PROVIDERS: 'otx', SECRET_KEY: TEST_SECRET, CACHE: 'off', OTX_MAX_CALLS_PER_OBSERVABLE: '25', ...otxScenario.envFor(fake.url) });
    const auth = bearer(await hs256Token({ ...otxScenario.credentials }));
    try {
      // The scenario's shape, 5 pulses of 3 pages: general, every first page, then pages 2 and 3 at once.
      await relay.post('/otx/observe/observables', otxScenario.observables(1), auth);
      assert.equal(fake.requests.length, 16);
      assert.equal(recorded.depth(), 3);
      fake.requests.length = 0;
      recorded.reset();

      // 3 pulses of 7 pages: general + 21 pages, within the budget of 25.
      const answer = await relay.post('/otx/observe/observables', [{ type: 'domain', value: shapedDomain('deep', 3, 7) }], auth);
      assert.equal(answer.json.errors, undefined);
      assert.equal(fake.requests.length, 1 + 3 * 7);
      assert.equal(recorded.depth(), 3);
      assert.ok(answer.json.data.sightings.docs.every((sighting: Entity) => sighting.observed_time!.start_time.endsWith('T08:05:00.000Z')));

      // 4 pulses of 30 pages: the budget (25 calls, general included) ends the search, still in 3 round trips.
      fake.requests.length = 0;
      recorded.reset();
      const capped = await relay.post('/otx/observe/observables', [{ type: 'domain', value: shapedDomain('huge', 4, 30) }], auth);
      assert.equal(capped.json.errors, undefined);
      assert.equal(capped.json.data.sightings.count, 4);
      assert.equal(fake.requests.length, 25);
      assert.equal(recorded.depth(), 3);
    } finally {
      await relay.close();
      await fake.close();
    }
  });

  test("the benchmark's 20 observables (3 known in 2 pulses of 2 pages, 17 unknown) cost 32 calls, as the original relay's", async () => {
    const fake = await startFakeUpstream(otxScenario.handler);
    const relay = await startRelay({ PROVIDERS: 'otx', SECRET_KEY: TEST_SECRET, CACHE: 'off', ...otxScenario.envFor(fake.url) });
    try {
      const observables = otxComparisonObservables();
      assert.equal(observables.length, 20);
      const answer = await relay.post('/otx/observe/observables', observables, bearer(await hs256Token({ ...otxScenario.credentials })));
      assert.equal(answer.json.errors, undefined);
      assert.equal(answer.json.data.sightings.count, 3 * 2);
      assert.equal(fake.requests.length, OTX_ORIGINAL_CALLS);
    } finally {
      await relay.close();
      await fake.close();
    }
  });
});
