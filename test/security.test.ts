// Hostile input, hostile tokens and hostile upstreams, for every module (test/helpers/scenarios.ts).
// Every log line written during the whole file is captured; the last test fails on any secret.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { ERROR_CODES } from '../src/core/errors.js';
import { isObservableType, isValidObservable, type ObservableType } from '../src/core/validators.js';
import { PROVIDERS } from '../src/providers/registry.js';
import { startFakeUpstream, type FakeReply, type FakeUpstream, type RecordedRequest } from './helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const logLines: string[] = [];
const secrets = new Set<string>([TEST_SECRET]);
const CODES = new Set<string>(ERROR_CODES);

/** Every answer: 200 with `data` and/or `errors`, errors in the contract's shape, no stack trace. */
function assertContractAnswer(answer: { status: number; json: any }): void {
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(typeof answer.json, 'object');
  assert.ok('data' in answer.json || 'errors' in answer.json, JSON.stringify(answer.json));
  for (const error of answer.json.errors ?? []) {
    assert.equal(error.type, 'fatal');
    assert.ok(CODES.has(error.code), error.code);
    assert.equal(typeof error.message, 'string');
  }
  const text = JSON.stringify(answer.json);
  assert.doesNotMatch(text, /\n\s+at |node:internal|\.ts:\d+:\d+/);
  for (const secret of secrets) assert.ok(!text.includes(secret), 'a secret in an answer');
}

function mentions(request: RecordedRequest, value: string): boolean {
  return request.url.includes(encodeURIComponent(value)) || request.url.includes(value) || request.body.includes(JSON.stringify(value).slice(1, -1));
}

function credentialsFor(scenario: (typeof SCENARIOS)[number]): Record<string, string> | null {
  if (scenario.credentials === null) return null;
  for (const value of Object.values(scenario.credentials)) secrets.add(value);
  return scenario.credentials;
}

// Near-valid values: valid ones, and valid ones with one hostile change.
const HEX = '0123456789abcdef'.split('');
const validValue: Record<ObservableType, fc.Arbitrary<string>> = {
  ip: fc.ipV4(),
  ipv6: fc.ipV6(),
  domain: fc.domain(),
  url: fc.webUrl(),
  email: fc.emailAddress(),
  md5: fc.string({ unit: fc.constantFrom(...HEX), minLength: 32, maxLength: 32 }),
  sha1: fc.string({ unit: fc.constantFrom(...HEX), minLength: 40, maxLength: 40 }),
  sha256: fc.string({ unit: fc.constantFrom(...HEX), minLength: 64, maxLength: 64 }),
};
const TYPES = Object.keys(validValue) as ObservableType[];
const hostileSuffix = fc.constantFrom('/../admin', '?x=1', '#f', '&key=stolen', ' ', '%', '\u0000', '/', '..', '\n', '\u202e', 'zz');
const nearValidObservable = fc.constantFrom(...TYPES).chain((type) =>
  fc.record({
    type: fc.constantFrom(type, type.toUpperCase(), 'file_name', ''),
    value: fc.oneof(validValue[type], fc.tuple(validValue[type], hostileSuffix).map(([value, suffix]) => value + suffix), fc.string({ maxLength: 20 })),
  }),
);

for (const scenario of SCENARIOS) {
  const provider = PROVIDERS.find((candidate) => candidate.id === scenario.providerId);
  assert.ok(provider);
  const base = `/${scenario.providerId}`;

  describe(`security: ${scenario.providerId}`, () => {
    let fake: FakeUpstream;
    let relay: RunningRelay;
    let headers: Record<string, string> = {};
    before(async () => {
      fake = await startFakeUpstream(scenario.handler);
      relay = await startRelay(
        {
          PROVIDERS: scenario.providerId,
          SECRET_KEY: TEST_SECRET,
          UPSTREAM_TIMEOUT_MS: '600',
          REQUEST_DEADLINE_MS: '2500',
          UPSTREAM_MAX_BODY_BYTES: '65536',
          MAX_OBSERVABLES: '50',
          ...scenario.envFor(fake.url),
        },
        { logLines },
      );
      const credentials = credentialsFor(scenario);
      if (credentials !== null) {
        const token = await hs256Token({ ...credentials });
        secrets.add(token);
        headers = bearer(token);
      }
    });
    after(async () => {
      await relay.close();
      await fake.close();
    });

    test('arbitrary JSON bodies always get the contract shape, never a 5xx', async () => {
      fake.setHandler(scenario.handler);
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (body) => {
          assertContractAnswer(await relay.post(`${base}/observe/observables`, JSON.stringify(body), headers));
        }),
        { numRuns: 40 },
      );
    });

    test('near-valid observable lists: contract shape, and no invalid value reaches the provider', async () => {
      fake.setHandler(scenario.handler);
      await fc.assert(
        fc.asyncProperty(fc.array(nearValidObservable, { maxLength: 6 }), async (observables) => {
          fake.requests.length = 0;
          assertContractAnswer(await relay.post(`${base}/observe/observables`, observables, headers));
          const valid = new Set(
            observables.filter(({ type, value }) => isObservableType(type.toLowerCase()) && isValidObservable(type.toLowerCase() as ObservableType, value)).map(({ value }) => value),
          );
          for (const { type, value } of observables) {
            const lower = type.toLowerCase();
            if (value.length < 4 || valid.has(value) || [...valid].some((good) => good.includes(value))) continue;
            if (isObservableType(lower) && isValidObservable(lower, value)) continue;
            for (const request of fake.requests) assert.ok(!mentions(request, value), `${type} ${JSON.stringify(value)} reached ${request.url}`);
          }
        }),
        { numRuns: 60 },
      );
    });

    const badBodies: [string, string | Buffer, Record<string, string>][] = [
      ['deep nesting', '['.repeat(100_000) + ']'.repeat(100_000), {}],
      ['invalid UTF-8', Buffer.from([0x5b, 0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x5d]), {}],
      ['a huge array', JSON.stringify(Array.from({ length: 51 }, (_, i) => ({ type: 'ip', value: `10.0.0.${i}` }))), {}],
      ['a form content type', 'type=ip&value=1.2.3.4', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['a multipart content type', '--x\r\n\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }],
    ];
    for (const [name, body, extra] of badBodies) {
      test(`${name} is an invalid argument`, async () => {
        fake.requests.length = 0;
        const answer = await relay.post(`${base}/observe/observables`, body as string, { ...headers, ...extra });
        assertContractAnswer(answer);
        assert.equal(answer.json.errors[0].code, 'invalid argument');
        assert.equal(fake.requests.length, 0);
      });
    }

    if (scenario.credentials !== null) {
      test('hostile tokens get their contract error and make no upstream call', async () => {
        fake.requests.length = 0;
        const credentials = scenario.credentials ?? {};
        const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const tokens = [
          `${part({ alg: 'none' })}.${part(credentials)}.`,
          await new SignJWT(credentials).setProtectedHeader({ alg: 'HS256', kid: '../../../etc/passwd' }).sign(new TextEncoder().encode('x'.repeat(40))),
          await hs256Token({ ...credentials }, TEST_SECRET, { exp: 1 }),
          await hs256Token(Object.fromEntries(Object.keys(credentials).map((key) => [key, 12345]))),
          await hs256Token({ ...credentials, jwks_host: '127.0.0.1' }, 'wrong-secret-wrong-secret-wrong-secret'),
          'x'.repeat(20_000),
        ];
        for (const token of tokens) {
          const answer = await relay.post(`${base}/observe/observables`, scenario.observables(1), bearer(token));
          assertContractAnswer(answer);
          assert.equal(answer.json.errors[0].code, 'authorization error');
        }
        assert.equal(fake.requests.length, 0);
      });
    }

    const hostile: [string, FakeReply][] = [
      ['a reset connection', { action: 'reset' }],
      ['a hanging answer', { action: 'hang' }],
      ['a slow drip', { action: 'drip', body: '{"a": "'.padEnd(200, 'x') + '"}', dripMs: 100 }],
      ['a truncated answer', { action: 'truncate', body: '{"records": [1, 2, 3' }],
      ['garbage', { body: '\u0000\u0001<html>not json at all' }],
      ['a huge answer', { body: JSON.stringify({ data: 'x'.repeat(200_000) }) }],
      ['a redirect to another host', { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' }, body: '' }],
      ['a wrong content type', { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>Error</body></html>' }],
    ];
    for (const [name, reply] of hostile) {
      test(`${name} for one observable: the answer comes in time with an error and the others' data`, async () => {
        const [victim, other] = scenario.observables(2);
        assert.ok(victim && other);
        const redirects: string[] = [];
        fake.setHandler((request) => {
          if (mentions(request, victim.value)) return reply;
          if (request.url.includes('latest/meta-data')) redirects.push(request.url);
          return scenario.handler(request);
        });
        const started = Date.now();
        const answer = await relay.post(`${base}/observe/observables`, [victim, other], headers);
        assertContractAnswer(answer);
        assert.ok(Date.now() - started < 10_000, 'answered within a generous bound of the 2.5 s deadline');
        assert.ok(answer.json.errors?.length >= 1, `${name}: ${JSON.stringify(answer.json)}`);
        assert.ok(answer.json.data && Object.keys(answer.json.data).length > 0, `${name}: the other observable's data is kept`);
        assert.deepEqual(redirects, []);
        // The relay still serves.
        assert.equal((await relay.get('/healthz')).status, 200);
      });
    }
  });
}

test('a steady rate of mixed requests against every module gives zero errors', { timeout: 60_000 }, async () => {
  const fakes = await Promise.all(SCENARIOS.map((scenario) => startFakeUpstream((request) => ({ ...(scenario.handler(request) as FakeReply), delayMs: 10 }))));
  const env = Object.assign({ SECRET_KEY: TEST_SECRET, PROVIDERS: SCENARIOS.map((s) => s.providerId).join(',') }, ...SCENARIOS.map((scenario, i) => scenario.envFor(fakes[i]!.url)));
  const relay = await startRelay(env, { logLines });
  try {
    const calls = await Promise.all(
      SCENARIOS.map(async (scenario) => ({
        scenario,
        headers: scenario.credentials === null ? {} : bearer(await hs256Token({ ...scenario.credentials, provider: scenario.providerId })),
      })),
    );
    const endpoints = ['observe/observables', 'deliberate/observables', 'refer/observables'];
    const failures: string[] = [];
    let sent = 0;
    // 40 requests a second for 4 seconds, bounded in count and time.
    for (let tick = 0; tick < 16; tick += 1) {
      const batch = Array.from({ length: 10 }, (_, i) => {
        const { scenario, headers } = calls[(tick + i) % calls.length]!;
        const endpoint = endpoints[(tick * 10 + i) % endpoints.length]!;
        sent += 1;
        return relay.post(`/${scenario.providerId}/${endpoint}`, scenario.observables(3), headers).then((answer) => {
          if (answer.status !== 200 || answer.json.errors !== undefined) failures.push(`${scenario.providerId} ${endpoint}: ${JSON.stringify(answer.json).slice(0, 200)}`);
        });
      });
      await Promise.all([...batch, new Promise((resolve) => setTimeout(resolve, 250))]);
    }
    assert.equal(sent, 160);
    assert.deepEqual(failures, []);
  } finally {
    await relay.close();
    await Promise.all(fakes.map((fake) => fake.close()));
  }
});

test('no log line written during this file holds a token, key or password', () => {
  assert.ok(logLines.length > 100, `captured ${logLines.length} lines`);
  for (const line of logLines) for (const secret of secrets) assert.ok(!line.includes(secret), `a secret in a log line: ${line.slice(0, 300)}`);
});
