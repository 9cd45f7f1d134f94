// Upstream calls per request against the original relays': every module's 20-observable comparison
// list (the benchmark's, docs/benchmark.md) costs no more calls than the original made for it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeUpstream } from './helpers/fake-upstream.js';
import { startRelay } from './helpers/relay.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const EXPECTED: Record<string, number> = { xforce: 57, pulsedive: 28, 'cybercrime-tracker': 20, otx: 32, c1fapp: 20 };

describe('upstream calls of the comparison lists, against the original relays', () => {
  for (const scenario of SCENARIOS) {
    test(`${scenario.providerId}: ${scenario.comparison.originalCalls} calls at most for its 20 observables`, async () => {
      assert.equal(scenario.comparison.originalCalls, EXPECTED[scenario.providerId]);
      const fake = await startFakeUpstream(scenario.handler);
      const relay = await startRelay({ PROVIDERS: scenario.providerId, SECRET_KEY: TEST_SECRET, ...scenario.envFor(fake.url) });
      try {
        const observables = scenario.comparison.observables();
        assert.equal(observables.length, 20);
        assert.equal(new Set(observables.map((observable) => `${observable.type}:${observable.value}`)).size, 20);
        const headers = scenario.credentials === null ? {} : bearer(await hs256Token(scenario.credentials));
        const answer = await relay.post(`/${scenario.providerId}/observe/observables`, observables, headers);
        assert.equal(answer.json.errors, undefined, JSON.stringify(answer.json.errors));
        assert.ok(Object.keys(answer.json.data).length > 0, 'something known');
        assert.ok(fake.requests.length <= scenario.comparison.originalCalls, `${fake.requests.length} calls`);
        // Today every module makes exactly the original's calls for its list (none fewer, by design of the lists).
        assert.equal(fake.requests.length, scenario.comparison.originalCalls);
      } finally {
        await relay.close();
        await fake.close();
      }
    });
  }
});
