// One contract suite that every provider module runs (see test/helpers/scenarios.ts): envelope
// shape, CTIM required fields, relationships that point at entities present, dropped inputs, and
// upstream failures mapped to the contract's codes with the server still serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CTIM_SCHEMA_VERSION, DISPOSITIONS } from '../src/core/ctim.js';
import { isValidObservable, type ObservableType } from '../src/core/validators.js';
import { PROVIDERS } from '../src/providers/registry.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const REQUIRED: Record<string, string[]> = {
  verdicts: ['type', 'disposition', 'disposition_name', 'observable', 'valid_time'],
  judgements: ['id', 'type', 'schema_version', 'source', 'observable', 'disposition', 'disposition_name', 'confidence', 'priority', 'severity', 'valid_time'],
  indicators: ['id', 'type', 'schema_version', 'producer', 'valid_time'],
  sightings: ['id', 'type', 'schema_version', 'confidence', 'count', 'observed_time'],
  relationships: ['id', 'type', 'schema_version', 'relationship_type', 'source_ref', 'target_ref'],
};
const LEVELS = ['Info', 'Low', 'Medium', 'High', 'None', 'Unknown'];
const RELATIONS = new Set(['Resolved_To', 'Contains', 'Related_To']);
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function collectTimes(value: unknown, out: string[] = []): string[] {
  if (value === null || typeof value !== 'object') return out;
  for (const [key, inner] of Object.entries(value)) {
    if ((key === 'start_time' || key === 'end_time') && typeof inner === 'string') out.push(inner);
    else collectTimes(inner, out);
  }
  return out;
}

export function assertContractData(data: Record<string, { count: number; docs: any[] }>, displayName: string): void {
  const ids = new Set<string>();
  for (const [key, list] of Object.entries(data)) {
    assert.ok(REQUIRED[key], `unexpected key ${key}`);
    assert.equal(list.count, list.docs.length);
    assert.ok(list.count > 0, `${key} is empty but present`);
    for (const entity of list.docs) {
      for (const field of REQUIRED[key] ?? []) assert.ok(entity[field] !== undefined, `${key} lacks ${field}: ${JSON.stringify(entity)}`);
      if (entity.id !== undefined) {
        assert.match(entity.id, new RegExp(`^transient:${entity.type}-[0-9a-f-]{36}$`));
        ids.add(entity.id);
      }
      if (entity.schema_version !== undefined) assert.equal(entity.schema_version, CTIM_SCHEMA_VERSION);
      if (entity.disposition !== undefined) {
        const pair = Object.values(DISPOSITIONS).find(([number]) => number === entity.disposition);
        assert.equal(entity.disposition_name, pair?.[1]);
      }
      if (entity.source !== undefined && key !== 'relationships') assert.equal(entity.source, displayName);
      for (const field of ['confidence', 'severity']) if (entity[field] !== undefined) assert.ok(LEVELS.includes(entity[field]), `${field} ${entity[field]}`);
      if (entity.title !== undefined) assert.ok(entity.title.length <= 1024);
      if (entity.description !== undefined) assert.ok(entity.description.length <= 5000);
      for (const time of collectTimes(entity)) assert.match(time, ISO_Z);
      for (const relation of entity.relations ?? []) {
        assert.ok(RELATIONS.has(relation.relation), `relation ${relation.relation} is not CTIM's`);
        assert.equal(relation.origin, `${displayName} Enrichment Module`);
      }
    }
  }
  for (const relationship of data.relationships?.docs ?? []) {
    assert.ok(ids.has(relationship.source_ref), `source_ref ${relationship.source_ref} is not in the answer`);
    assert.ok(ids.has(relationship.target_ref), `target_ref ${relationship.target_ref} is not in the answer`);
  }
}

for (const scenario of SCENARIOS) {
  const provider = PROVIDERS.find((candidate) => candidate.id === scenario.providerId);
  assert.ok(provider, `${scenario.providerId} is not registered`);
  const path = (endpoint: string) => `/${scenario.providerId}/${endpoint}`;

  describe(`contract: ${scenario.providerId}`, () => {
    let fake: FakeUpstream;
    let relay: RunningRelay;
    let headers: Record<string, string> = {};
    before(async () => {
      fake = await startFakeUpstream(scenario.handler);
      relay = await startRelay({ PROVIDERS: scenario.providerId, SECRET_KEY: TEST_SECRET, CACHE: 'off', ...scenario.envFor(fake.url) });
      headers = scenario.credentials === null ? {} : bearer(await hs256Token({ ...scenario.credentials }));
    });
    after(async () => {
      await relay.close();
      await fake.close();
    });

    test('observe: CTIM shape, relationships inside the answer, invalid and unsupported inputs never upstream', async () => {
      fake.setHandler(scenario.handler);
      fake.requests.length = 0;
      const invalidType = (provider.supportedTypes as readonly ObservableType[]).find((type) => type !== 'email') ?? 'ip';
      const invalid = { type: invalidType, value: 'in valid/../%zz' };
      assert.equal(isValidObservable(invalid.type, invalid.value), false);
      const answer = await relay.post(path('observe/observables'), [...scenario.observables(3), invalid, { type: 'file_name', value: 'evil.exe' }], headers);
      assert.equal(answer.status, 200);
      assert.equal(answer.json.errors, undefined, JSON.stringify(answer.json.errors));
      assert.ok(Object.keys(answer.json.data).length > 0, 'the fake knows these observables');
      assertContractData(answer.json.data, provider.displayName);
      for (const request of fake.requests) {
        assert.ok(!request.url.includes('in%20valid') && !request.url.includes('in valid') && !request.body.includes('in valid'));
        assert.ok(!request.url.includes('evil.exe') && !request.body.includes('evil.exe'));
      }
    });

    test('deliberate: verdicts only, or nothing', async () => {
      fake.setHandler(scenario.handler);
      const answer = await relay.post(path('deliberate/observables'), scenario.observables(2), headers);
      assert.equal(answer.json.errors, undefined);
      assert.deepEqual(Object.keys(answer.json.data).filter((key) => key !== 'verdicts'), []);
      if (answer.json.data.verdicts !== undefined) assertContractData(answer.json.data, provider.displayName);
    });

    test('refer: links with id, title, description, url and categories', async () => {
      fake.setHandler(scenario.handler);
      const answer = await relay.post(path('refer/observables'), scenario.observables(2), headers);
      assert.ok(Array.isArray(answer.json.data));
      for (const link of answer.json.data) {
        assert.deepEqual(Object.keys(link).sort(), ['categories', 'description', 'id', 'title', 'url']);
        assert.match(link.url, /^https?:\/\//);
      }
    });

    test('health: ok against the fake', async () => {
      fake.setHandler(scenario.handler);
      assert.deepEqual((await relay.post(path('health'), undefined, headers)).json, { data: { status: 'ok' } });
    });

    test('answers from the cache (parsed once, then shared) match fresh ones, with no upstream call', async () => {
      fake.setHandler(scenario.handler);
      const cached = await startRelay({ PROVIDERS: scenario.providerId, SECRET_KEY: TEST_SECRET, CACHE: 'on', ...scenario.envFor(fake.url) });
      // Random ids and the times taken from the clock differ between any two answers.
      const comparable = (json: unknown) =>
        JSON.stringify(json)
          .replace(/transient:[a-z-]+-[0-9a-f-]{36}/g, 'ID')
          .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, 'TIME');
      try {
        const observables = scenario.observables(5);
        const fresh = await cached.post(path('observe/observables'), observables, headers);
        assert.equal(fresh.json.errors, undefined, JSON.stringify(fresh.json.errors));
        const calls = fake.requests.length;
        for (let round = 0; round < 3; round += 1) {
          const warm = await cached.post(path('observe/observables'), observables, headers);
          assert.equal(warm.json.errors, undefined, JSON.stringify(warm.json.errors));
          assertContractData(warm.json.data, provider.displayName);
          assert.equal(comparable(warm.json), comparable(fresh.json));
        }
        assert.equal(fake.requests.length, calls);
      } finally {
        await cached.close();
      }
    });

    test('an empty list answers empty data without an upstream call', async () => {
      fake.requests.length = 0;
      assert.deepEqual((await relay.post(path('observe/observables'), [], headers)).json, { data: {} });
      assert.equal(fake.requests.length, 0);
    });

    const failures: [number, string][] = [
      [500, 'service unavailable'],
      [503, 'service unavailable'],
    ];
    if (scenario.credentials !== null) failures.push([401, 'authorization error']);
    // Last: a 429 makes the relay hold back that credential for the Retry-After.
    failures.push([429, 'too many requests']);
    for (const [status, code] of failures) {
      test(`upstream ${status} is ${code}, in the contract's shape`, async () => {
        fake.setHandler(() => ({ status, body: { error: 'failure' }, headers: status === 429 ? { 'retry-after': '1' } : ({} as Record<string, string>) }));
        const answer = await relay.post(path('observe/observables'), scenario.observables(2), headers);
        assert.equal(answer.status, 200);
        assert.ok(Array.isArray(answer.json.errors), JSON.stringify(answer.json));
        assert.equal(answer.json.errors[0].code, code);
        assert.equal(answer.json.errors[0].type, 'fatal');
      });
    }

    test('an unreachable provider is service unavailable, and the server keeps serving', async () => {
      const down = await startRelay({ PROVIDERS: scenario.providerId, SECRET_KEY: TEST_SECRET, CACHE: 'off', ...scenario.envFor('http://127.0.0.1:9/') });
      try {
        const answer = await down.post(path('observe/observables'), scenario.observables(1), headers);
        assert.equal(answer.json.errors[0].code, 'service unavailable');
        assert.equal((await down.get('/healthz')).status, 200);
      } finally {
        await down.close();
      }
    });
  });
}
