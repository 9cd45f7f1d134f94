// The module end to end: the relay as a server, CyberCrime Tracker as a fake on 127.0.0.1.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, startFakeUpstream, type FakeUpstream } from '../../../test/helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from '../../../test/helpers/relay.js';

const malicious = fixture(import.meta.url, 'malicious.json');
const notListed = fixture(import.meta.url, 'not-listed.json');

describe('cybercrime-tracker', () => {
  let fake: FakeUpstream;
  let relay: RunningRelay;
  before(async () => {
    fake = await startFakeUpstream();
    relay = await startRelay({ PROVIDERS: 'cybercrime-tracker', CYBERCRIME_TRACKER_URL: fake.url });
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.setHandler((request) => (request.url.includes('1.2.3.4') || request.url.includes('c2.example') ? { body: malicious } : { body: notListed }));
  });

  test('observe of a known-malicious ip gets a verdict and a judgement; no token needed', async () => {
    const answer = await relay.post('/cybercrime-tracker/observe/observables', [{ type: 'ip', value: '1.2.3.4' }], { authorization: 'Bearer ignored' });
    assert.equal(answer.json.errors, undefined);
    assert.equal(answer.json.data.verdicts.count, 1);
    assert.equal(answer.json.data.verdicts.docs[0].disposition_name, 'Malicious');
    assert.equal(answer.json.data.judgements.docs[0].reason, 'Keitaro');
    assert.equal(answer.json.data.judgements.docs[0].source_uri, `${fake.url}index.php?search=1.2.3.4`);
    assert.deepEqual(fake.requests.map((request) => request.url), ['/query.php?url=1.2.3.4']);
  });

  test('the module is also served at / when it is the only one', async () => {
    const answer = await relay.post('/deliberate/observables', [{ type: 'ip', value: '1.2.3.4' }]);
    assert.equal(answer.json.data.verdicts.docs[0].disposition, 2);
    assert.equal(answer.json.data.judgements, undefined);
  });

  test('values are encoded: a url cannot inject a parameter or change the path', async () => {
    const values = ['http://c2.example.net&x=1', 'http://c2.example.net/a?b=1#frag', 'http://c2.example.net/../../admin'];
    const answer = await relay.post('/cybercrime-tracker/observe/observables', values.map((value) => ({ type: 'url', value })));
    assert.equal(answer.json.data.verdicts.count, 3);
    // Entities name the observable exactly as given, not the stripped value looked up.
    assert.deepEqual(answer.json.data.verdicts.docs.map((verdict: any) => verdict.observable.value).sort(), [...values].sort());
    const urls = fake.requests.map((request) => request.url).sort();
    assert.deepEqual(urls, [
      '/query.php?url=c2.example.net%26x%3D1',
      '/query.php?url=c2.example.net%2F..%2F..%2Fadmin',
      '/query.php?url=c2.example.net%2Fa%3Fb%3D1%23frag',
    ]);
  });

  test('observables are looked up concurrently, once each; invalid and unsupported ones never upstream', async () => {
    fake.setHandler(() => ({ body: notListed, delayMs: 300 }));
    const started = Date.now();
    const answer = await relay.post('/cybercrime-tracker/observe/observables', [
      ...Array.from({ length: 10 }, (_, i) => ({ type: 'ip', value: `198.51.100.${i}` })),
      { type: 'IP', value: '198.51.100.1' },
      { type: 'ip', value: '10.0.0.999' },
      { type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' },
    ]);
    assert.deepEqual(answer.json, { data: {} });
    assert.equal(fake.requests.length, 10);
    // Ten sequential calls would take 3 s; a generous bound still tells concurrent from sequential.
    assert.ok(Date.now() - started < 2500);
  });

  test('a domain is looked up as is', async () => {
    const answer = await relay.post('/cybercrime-tracker/observe/observables', [{ type: 'domain', value: 'c2.example.org' }]);
    assert.equal(answer.json.data.verdicts.docs[0].observable.type, 'domain');
    assert.deepEqual(fake.requests.map((request) => request.url), ['/query.php?url=c2.example.org']);
  });

  test('refer gives the search link without calling upstream', async () => {
    const answer = await relay.post('/cybercrime-tracker/refer/observables', [{ type: 'ip', value: '1.2.3.4' }]);
    assert.deepEqual(answer.json.data, [
      {
        id: 'ref-cybercrime-tracker-search-ip-1.2.3.4',
        title: 'Search for this IP',
        description: 'Lookup this IP on CyberCrime Tracker',
        url: `${fake.url}index.php?search=1.2.3.4`,
        categories: ['Search', 'CyberCrime Tracker'],
      },
    ]);
    assert.equal(fake.requests.length, 0);
  });

  test('health calls the base URL', async () => {
    fake.setHandler(() => ({ status: 200, body: '<html>ok</html>' }));
    assert.deepEqual((await relay.post('/cybercrime-tracker/health')).json, { data: { status: 'ok' } });
    assert.deepEqual(fake.requests.map((request) => request.url), ['/']);
    fake.setHandler(() => ({ status: 503 }));
    assert.equal((await relay.post('/cybercrime-tracker/health')).json.errors[0].code, 'service unavailable');
  });

  const statuses: [number, string][] = [
    [404, 'not found'],
    [500, 'service unavailable'],
    [502, 'service unavailable'],
    [503, 'service unavailable'],
    [504, 'service unavailable'],
    [429, 'too many requests'],
    [418, 'unknown'],
  ];
  for (const [status, code] of statuses) {
    test(`upstream ${status} is ${code}, and the other observables are kept`, async () => {
      fake.setHandler((request) => (request.url.includes('9.9.9.9') ? { status, body: { error: 'x' } } : { body: malicious }));
      const answer = await relay.post('/cybercrime-tracker/observe/observables', [
        { type: 'ip', value: '9.9.9.9' },
        { type: 'ip', value: '1.2.3.4' },
      ]);
      assert.equal(answer.json.data.verdicts.count, 1);
      assert.equal(answer.json.errors.length, 1);
      assert.equal(answer.json.errors[0].code, code);
    });
  }

  test('an answer that is not JSON, or lacks the message, is a key error', async () => {
    fake.setHandler((request) => (request.url.includes('1.1.1.1') ? { body: '<html>' } : { body: { success: true } }));
    const answer = await relay.post('/cybercrime-tracker/observe/observables', [
      { type: 'ip', value: '1.1.1.1' },
      { type: 'ip', value: '2.2.2.2' },
    ]);
    assert.deepEqual(answer.json, {
      errors: [{ type: 'fatal', code: 'key error', message: 'The data structure of CyberCrime Tracker has changed. The module is broken.' }],
    });
  });

  test('a provider that is down is service unavailable', async () => {
    const down = await startRelay({ PROVIDERS: 'cybercrime-tracker', CYBERCRIME_TRACKER_URL: 'http://127.0.0.1:9/' });
    try {
      const answer = await down.post('/cybercrime-tracker/observe/observables', [{ type: 'ip', value: '1.2.3.4' }]);
      assert.equal(answer.json.errors[0].code, 'service unavailable');
    } finally {
      await down.close();
    }
  });

  test('a provider slower than UPSTREAM_TIMEOUT_MS is service unavailable', async () => {
    const slow = await startRelay({ PROVIDERS: 'cybercrime-tracker', CYBERCRIME_TRACKER_URL: fake.url, UPSTREAM_TIMEOUT_MS: '200' });
    fake.setHandler(() => ({ body: malicious, delayMs: 1500 }));
    try {
      const answer = await slow.post('/cybercrime-tracker/observe/observables', [{ type: 'ip', value: '1.2.3.4' }]);
      assert.equal(answer.json.errors[0].code, 'service unavailable');
    } finally {
      await slow.close();
    }
  });
});
