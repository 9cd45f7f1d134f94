// The enrichment API over HTTP (shared/spec/enrich-api.md), against every provider's fake
// (SCENARIOS) and against crafted providers whose verdicts disagree on purpose.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod/v4';
import { buildVerdict, type DispositionKey } from '../src/core/ctim.js';
import { HS256_MESSAGES, RelayError } from '../src/core/errors.js';
import { defineProvider, type Provider } from '../src/core/provider.js';
import type { Env } from '../src/core/settings.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { PROVIDERS } from '../src/providers/registry.js';
import { TEST_SECRET, bearer, hs256Token } from './helpers/tokens.js';

const OBSERVE = '/enrich/observables';
// The fakes answer at once; on a machine shared by many test runs, a call may still wait seconds for a core.
const GENEROUS: Env = { UPSTREAM_TIMEOUT_MS: '60000', REQUEST_DEADLINE_MS: '90000' };

interface Fakes {
  byId: Record<string, FakeUpstream>;
  env: Env;
  close(): Promise<void>;
}

async function startFakes(): Promise<Fakes> {
  const started = await Promise.all(SCENARIOS.map((scenario) => startFakeUpstream(scenario.handler)));
  const byId: Record<string, FakeUpstream> = {};
  const env: Env = {};
  SCENARIOS.forEach((scenario, index) => {
    const fake = started[index] as FakeUpstream;
    byId[scenario.providerId] = fake;
    Object.assign(env, scenario.envFor(fake.url));
  });
  return { byId, env, close: async () => void (await Promise.all(started.map((fake) => fake.close()))) };
}

/** Every provider's credentials under its id, less those named. */
function payloadWithout(...left: string[]): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const scenario of SCENARIOS) if (scenario.credentials !== null && !left.includes(scenario.providerId)) payload[scenario.providerId] = scenario.credentials;
  return payload;
}

function everyRequestText(fakes: Fakes): string {
  return Object.values(fakes.byId)
    .flatMap((fake) => fake.requests.map((request) => `${request.url}\n${request.body}`))
    .join('\n');
}

function clearRequests(fakes: Fakes): void {
  for (const fake of Object.values(fakes.byId)) fake.requests.length = 0;
}

const PRIVATE_VALUES = [
  { type: 'ip', value: '10.1.2.3', reason: 'private address (RFC 1918)' },
  { type: 'ip', value: '100.64.1.1', reason: 'shared address space (RFC 6598)' },
  { type: 'ipv6', value: 'fd12:3456::1', reason: 'unique local address (fc00::/7)' },
  { type: 'ipv6', value: '::ffff:192.168.1.1', reason: 'IPv4-mapped private address (RFC 1918)' },
  { type: 'domain', value: 'fileserver.corp.local', reason: 'internal domain (.local)' },
  { type: 'domain', value: 'wiki.corp.example.com', reason: 'internal domain (.corp.example.com)' },
  { type: 'url', value: 'http://intranet.lan/login', reason: 'internal domain (.lan)' },
  { type: 'url', value: 'http://192.168.0.10:8080/admin', reason: 'private address (RFC 1918)' },
  { type: 'email', value: 'helpdesk@mail.internal', reason: 'internal domain (.internal)' },
];

const MD5 = '0123456789abcdef0123456789abcdef';
const SHA1 = '0123456789abcdef0123456789abcdef01234567';
const SHA256 = '0123456789abcdef'.repeat(4);

// One of every type, the private and internal ones, and repeats (a repeat with its type upper-cased too).
const MIXED = [
  { type: 'ip', value: '198.51.100.1' },
  { type: 'ipv6', value: '2001:db8::1' },
  { type: 'domain', value: 'host-1.example.com' },
  { type: 'url', value: 'http://host-2.example.com/download.php?id=2' },
  { type: 'email', value: 'billing@host-3.example.com' },
  { type: 'md5', value: MD5 },
  { type: 'sha1', value: SHA1 },
  { type: 'sha256', value: SHA256 },
  ...PRIVATE_VALUES.map(({ type, value }) => ({ type, value })),
  { type: 'ip', value: '198.51.100.1' },
  { type: 'IP', value: '198.51.100.1' },
  { type: 'domain', value: 'host-1.example.com' },
];

/** The mounted providers that support a type, in mount (registry) order. */
const supportersOf = (type: string): string[] =>
  PROVIDERS.filter((provider) => (provider.supportedTypes as readonly string[]).includes(type)).map((provider) => provider.id);

describe('enrichment over HTTP with every provider', () => {
  let fakes: Fakes;
  let relay: RunningRelay;
  const logLines: string[] = [];

  before(async () => {
    fakes = await startFakes();
    relay = await startRelay(
      { ...fakes.env, ...GENEROUS, SECRET_KEY: TEST_SECRET, INTERNAL_DOMAINS: 'localhost,local,internal,lan,home.arpa,corp.example.com' },
      { logLines },
    );
  });
  after(async () => {
    await relay.close();
    await fakes.close();
  });

  test('GET /enrich/providers needs no token: ids, names, types and credential fields', async () => {
    const answer = await relay.get('/enrich/providers');
    assert.equal(answer.status, 200);
    const byId: Record<string, { credentials: unknown }> = Object.fromEntries((answer.json.data as { id: string; credentials: unknown }[]).map((info) => [info.id, info]));
    assert.deepEqual(Object.keys(byId), ['xforce', 'pulsedive', 'cybercrime-tracker', 'otx', 'c1fapp']);
    assert.deepEqual(byId.xforce, {
      id: 'xforce',
      name: 'IBM X-Force Exchange',
      supported_types: ['ip', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256'],
      credentials: [
        { name: 'key', secret: true },
        { name: 'password', secret: true },
      ],
    });
    assert.deepEqual(byId['cybercrime-tracker']?.credentials, []);
    assert.deepEqual(byId.otx?.credentials, [{ name: 'key', secret: true }]);
  });

  test('POST /enrich/inspect: a defanged e-mail body → its observables in order, the private ones withheld', async () => {
    const text = [
      'From: "IT Support" <support[at]phish-example[.]com>',
      'Subject: Your mailbox is full',
      '',
      'Dear user, log in at hxxps://login-portal[.]phish-example[.]com/owa?user=you within 24 h.',
      'Our server 203.0.113[.]45 (and backup 203[.]0[.]113[.]46) will delete your mail otherwise.',
      'Attachment: invoice.pdf, setup.exe (md5 D41D8CD98F00B204E9800998ECF8427E).',
      'Internal ticket: http://helpdesk.corp.local/ticket/7 from 10.20.30.40, also seen at phish-example[.]com.',
      'Again: hxxps://login-portal[.]phish-example[.]com/owa?user=you and 203.0.113.45.',
    ].join('\n');
    const answer = await relay.post('/enrich/inspect', { text });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, {
      data: {
        observables: [
          { type: 'email', value: 'support@phish-example.com' },
          { type: 'url', value: 'https://login-portal.phish-example.com/owa?user=you' },
          { type: 'ip', value: '203.0.113.45' },
          { type: 'ip', value: '203.0.113.46' },
          { type: 'md5', value: 'd41d8cd98f00b204e9800998ecf8427e' },
          // The url's host is not listed again; this domain stands alone in the text.
          { type: 'domain', value: 'phish-example.com' },
        ],
        withheld: [
          { type: 'url', value: 'http://helpdesk.corp.local/ticket/7', reason: 'internal domain (.local)' },
          { type: 'ip', value: '10.20.30.40', reason: 'private address (RFC 1918)' },
        ],
      },
    });
    assert.equal(everyRequestText(fakes), '', 'inspect calls no provider');
  });

  test('POST /enrich/inspect refuses what is not {"text": string}', async () => {
    for (const body of [[], { text: 5 }, 'plain', {}]) {
      const answer = await relay.post('/enrich/inspect', body);
      assert.equal(answer.status, 200);
      assert.equal(answer.json.errors[0].code, 'invalid argument');
    }
  });

  test('a mixed list: every type, withheld ones never sent, one entry per observable, ok and skipped providers', async () => {
    clearRequests(fakes);
    logLines.length = 0;
    const token = await hs256Token(payloadWithout('c1fapp'));
    const answer = await relay.post(OBSERVE, MIXED, bearer(token));
    assert.equal(answer.status, 200);
    const { observables, withheld } = answer.json.data;
    assert.deepEqual(withheld, PRIVATE_VALUES);
    assert.deepEqual(
      observables.map((observable: { type: string; value: string }) => `${observable.type} ${observable.value}`),
      ['ip 198.51.100.1', 'ipv6 2001:db8::1', 'domain host-1.example.com', 'url http://host-2.example.com/download.php?id=2', 'email billing@host-3.example.com', `md5 ${MD5}`, `sha1 ${SHA1}`, `sha256 ${SHA256}`],
    );

    const sent = everyRequestText(fakes);
    for (const { value } of PRIVATE_VALUES) {
      const probe = value.replace(/^https?:\/\//, '').split(/[/:@]/).find((part) => part.includes('.')) ?? value;
      assert.ok(!sent.includes(probe) && !sent.includes(encodeURIComponent(probe)), `${value} reached a provider`);
    }
    assert.ok(sent.includes('198.51.100.1'), 'the public ones were looked up');

    for (const observable of observables) {
      const listed = observable.providers.map((provider: { id: string }) => provider.id);
      assert.deepEqual(listed, supportersOf(observable.type), `${observable.type}: only the providers supporting it, in mount order`);
      for (const provider of observable.providers) {
        if (provider.id === 'c1fapp') assert.deepEqual(provider, { id: 'c1fapp', name: 'C1fApp', status: 'skipped', reason: 'no credentials' });
        else assert.equal(provider.status, 'ok', `${provider.id} for ${observable.value}: ${JSON.stringify(provider.error)}`);
      }
    }
    assert.equal(fakes.byId.c1fapp?.requests.length, 0, 'a provider without credentials is never called');

    // The IP: X-Force says Malicious; the answer carries the summary fields and the CTIM.
    const ip = observables[0];
    const xforce = ip.providers.find((provider: { id: string }) => provider.id === 'xforce');
    assert.deepEqual(xforce.verdict, { disposition: 2, disposition_name: 'Malicious' });
    assert.ok(xforce.titles.length > 0 && xforce.titles.length <= 5);
    assert.equal(xforce.counts.sightings, xforce.ctim.sightings.docs.length);
    assert.equal(xforce.counts.judgements, xforce.ctim.judgements.docs.length);
    assert.ok(xforce.links.length > 0 && xforce.links.every((link: { url: string; title: string }) => link.url.startsWith('https://') && link.title !== ''));
    assert.ok(Date.parse(xforce.first_seen) <= Date.parse(xforce.last_seen));
    assert.equal(ip.verdict.disposition_name, 'Malicious');
    assert.equal(ip.verdict.answered, 4);
    assert.equal(ip.verdict.malicious + ip.verdict.suspicious + ip.verdict.clean + ip.verdict.unknown, ip.verdict.answered);

    // The debug line counts what was withheld, and no log line names a withheld value.
    assert.ok(logLines.some((line) => line.includes('private or internal observables withheld') && line.includes(`"withheld":${PRIVATE_VALUES.length}`)));
    for (const { value } of PRIVATE_VALUES) assert.ok(!logLines.some((line) => line.includes(value)), `${value} in a log line`);
  });

  test('?ctim=false leaves the CTIM out; ?providers= asks only those; an unknown provider is an invalid argument', async () => {
    const token = await hs256Token(payloadWithout());
    const body = [{ type: 'ip', value: '198.51.100.2' }];
    const lean = await relay.post(`${OBSERVE}?ctim=false&providers=xforce,cybercrime-tracker`, body, bearer(token));
    const providers = lean.json.data.observables[0].providers;
    assert.deepEqual(providers.map((provider: { id: string }) => provider.id), ['xforce', 'cybercrime-tracker']);
    assert.ok(providers.every((provider: Record<string, unknown>) => provider.status === 'ok' && !('ctim' in provider)));

    const unknown = await relay.post(`${OBSERVE}?providers=xforce,virustotal`, body, bearer(token));
    assert.equal(unknown.json.errors[0].code, 'invalid argument');
    assert.match(unknown.json.errors[0].message, /virustotal/);
    const badFlag = await relay.post(`${OBSERVE}?ctim=maybe`, body, bearer(token));
    assert.equal(badFlag.json.errors[0].code, 'invalid argument');
  });

  test('the relay API body rules: not a list, a bad item, too many', async () => {
    const token = await hs256Token(payloadWithout());
    const notList = await relay.post(OBSERVE, { type: 'ip', value: '198.51.100.1' }, bearer(token));
    assert.deepEqual(notList.json, { errors: [{ type: 'fatal', code: 'invalid argument', message: 'Invalid JSON payload received. Expected a list of observables, got an object.' }] });
    const badItem = await relay.post(OBSERVE, [{ type: 'ip' }], bearer(token));
    assert.match(badItem.json.errors[0].message, /^Invalid JSON payload received\. 0\.value: Missing data for required field\./);
    const tooMany = await relay.post(OBSERVE, Array.from({ length: 1001 }, (_, index) => ({ type: 'md5', value: index.toString(16).padStart(32, '0') })), bearer(token));
    assert.match(tooMany.json.errors[0].message, /Too many observables: 1001; at most 1000/);
  });

  test('the token: missing and extra providers, a malformed entry, no token, a wrong key, the audience', async () => {
    const body = [{ type: 'ip', value: '198.51.100.3' }];
    const statuses = (answer: { json: { data: { observables: { providers: { id: string; status: string }[] }[] } } }) =>
      Object.fromEntries(answer.json.data.observables[0]!.providers.map((provider) => [provider.id, provider.status]));

    // Only X-Force's keys, plus keys of a provider that is not mounted and other claims: ignored.
    const some = await relay.post(OBSERVE, body, bearer(await hs256Token({ xforce: payloadWithout().xforce, virustotal: { key: 'k' }, CTR_ENTITIES_LIMIT: 5 })));
    assert.deepEqual(statuses(some), { xforce: 'ok', pulsedive: 'skipped', 'cybercrime-tracker': 'ok', otx: 'skipped', c1fapp: 'skipped' });
    // An empty payload still runs CyberCrime Tracker, which needs no credentials.
    const none = await relay.post(OBSERVE, body, bearer(await hs256Token({})));
    assert.deepEqual(statuses(none), { xforce: 'skipped', pulsedive: 'skipped', 'cybercrime-tracker': 'ok', otx: 'skipped', c1fapp: 'skipped' });

    const authorization = async (headers: Record<string, string>) => (await relay.post(OBSERVE, body, headers)).json.errors?.[0];
    assert.deepEqual(await authorization(bearer(await hs256Token({ xforce: { key: 7 } }))), {
      type: 'fatal',
      code: 'authorization error',
      message: 'Authorization failed: Wrong JWT payload structure',
    });
    assert.equal((await authorization({})).message, 'Authorization failed: Authorization header is missing');
    assert.equal((await authorization({ authorization: 'Basic abc' })).message, 'Authorization failed: Wrong authorization type');
    assert.equal((await authorization(bearer(await hs256Token({}, 'another-secret-key-0123456789abcdef0123')))).message, `Authorization failed: ${HS256_MESSAGES.badSignature}`);
    assert.equal((await authorization(bearer(await hs256Token({ aud: 'https://elsewhere.example/enrich' })))).message, 'Authorization failed: Wrong configuration-token-audience');
    const addressed = await relay.post(OBSERVE, body, bearer(await hs256Token({ aud: `${relay.url}/enrich` })));
    assert.equal(addressed.json.errors, undefined);
  });

  test('the OpenAPI document lists the enrichment routes', async () => {
    const document = (await relay.get('/openapi.json')).json;
    for (const path of ['/enrich/providers', '/enrich/inspect', '/enrich/observables']) assert.ok(document.paths[path], path);
    assert.deepEqual(document.paths['/enrich/observables'].post.security, [{ configurationToken: [] }]);
  });
});

describe('enrichment keeps partial failures', () => {
  let fakes: Fakes;
  let relay: RunningRelay;
  before(async () => {
    fakes = await startFakes();
    relay = await startRelay({ ...fakes.env, ...GENEROUS, SECRET_KEY: TEST_SECRET });
  });
  after(async () => {
    await relay.close();
    await fakes.close();
  });

  test('a provider that fails is an error for that observable; the others answer', async () => {
    fakes.byId.pulsedive?.setHandler(() => ({ status: 503, body: { error: 'maintenance' } }));
    const answer = await relay.post(OBSERVE, [{ type: 'ip', value: '198.51.100.4' }], bearer(await hs256Token(payloadWithout())));
    const providers = answer.json.data.observables[0].providers;
    const pulsedive = providers.find((provider: { id: string }) => provider.id === 'pulsedive');
    assert.deepEqual(pulsedive, { id: 'pulsedive', name: 'Pulsedive', status: 'error', error: { code: 'service unavailable', message: 'The Pulsedive is unavailable. Please, try again later.' } });
    assert.deepEqual(
      providers.filter((provider: { id: string }) => provider.id !== 'pulsedive').map((provider: { status: string }) => provider.status),
      ['ok', 'ok', 'ok', 'ok'],
    );
    // Failures are not answers: the consensus counts the four that answered.
    assert.equal(answer.json.data.observables[0].verdict.answered, 4);
  });
});

// Providers that answer a fixed disposition per observable value, without any upstream: for the
// consensus rule and the stream's order and flushing.
function verdictProvider(id: string, verdicts: Record<string, DispositionKey | 'none' | 'fail'>, hold: () => Promise<void> = async () => undefined): Provider {
  return defineProvider({
    id,
    displayName: id.toUpperCase(),
    supportedTypes: ['domain'],
    credentialsSchema: z.object({ key: z.string().min(1) }),
    settingsSchema: z.object({}),
    async health() {},
    async observe({ now }, observable) {
      await hold();
      const verdict = verdicts[observable.value] ?? 'none';
      if (verdict === 'fail') throw new RelayError('service unavailable', `${id} is down.`);
      if (verdict === 'none') return {};
      return { verdicts: [buildVerdict(observable, verdict, { start_time: now.toISOString() })] };
    },
    refer: (_context, observable) => [{ id: `ref-${id}`, title: `Search ${id}`, description: '', url: `https://${id}.example/search?q=${observable.value}`, categories: ['Search'] }],
  });
}

describe('the consensus and the stream', () => {
  let relay: RunningRelay;
  let token: string;
  // Gamma answers only once this is resolved: the stream test holds it back to see lines flushed before the end.
  let gammaMayAnswer: Promise<void> = Promise.resolve();
  before(async () => {
    const providers = [
      verdictProvider('alpha', { 'split.example.com': 'malicious', 'mild.example.com': 'clean', 'calm.example.com': 'clean', 'down.example.com': 'fail' }),
      verdictProvider('beta', { 'split.example.com': 'clean', 'mild.example.com': 'suspicious', 'calm.example.com': 'common', 'down.example.com': 'fail' }),
      verdictProvider('gamma', { 'split.example.com': 'unknown', 'mild.example.com': 'none', 'calm.example.com': 'none' }, () => gammaMayAnswer),
    ];
    relay = await startRelay({ PROVIDERS: 'alpha,beta,gamma', SECRET_KEY: TEST_SECRET }, { providers });
    token = await hs256Token({ alpha: { key: 'a' }, beta: { key: 'b' }, gamma: { key: 'c' } });
  });
  after(() => relay.close());

  test('the most severe verdict wins, with how many gave each and how many answered', async () => {
    const values = ['split.example.com', 'mild.example.com', 'calm.example.com', 'quiet.example.com', 'down.example.com'];
    const answer = await relay.post(`${OBSERVE}?ctim=false`, values.map((value) => ({ type: 'domain', value })), bearer(token));
    const verdicts = Object.fromEntries(answer.json.data.observables.map((observable: { value: string; verdict: unknown }) => [observable.value, observable.verdict]));
    assert.deepEqual(verdicts, {
      'split.example.com': { disposition: 2, disposition_name: 'Malicious', malicious: 1, suspicious: 0, clean: 1, unknown: 1, answered: 3 },
      'mild.example.com': { disposition: 3, disposition_name: 'Suspicious', malicious: 0, suspicious: 1, clean: 1, unknown: 1, answered: 3 },
      // Common is benign: counted with Clean, and the consensus reads Clean.
      'calm.example.com': { disposition: 1, disposition_name: 'Clean', malicious: 0, suspicious: 0, clean: 2, unknown: 1, answered: 3 },
      'quiet.example.com': { disposition: 5, disposition_name: 'Unknown', malicious: 0, suspicious: 0, clean: 0, unknown: 3, answered: 3 },
      // Two failed: only gamma answered, with nothing.
      'down.example.com': { disposition: 5, disposition_name: 'Unknown', malicious: 0, suspicious: 0, clean: 0, unknown: 1, answered: 1 },
    });
    const split = answer.json.data.observables[0].providers;
    assert.deepEqual(split[0], {
      id: 'alpha',
      name: 'ALPHA',
      status: 'ok',
      verdict: { disposition: 2, disposition_name: 'Malicious' },
      counts: { judgements: 0, sightings: 0, indicators: 0, relationships: 0 },
      titles: [],
      links: [{ title: 'Search alpha', url: 'https://alpha.example/search?q=split.example.com' }],
    });
  });

  // Were the lines held back until the end, gamma's hold would never be released: the timeout fails it.
  test('NDJSON: a line per provider result as it arrives, a verdict line per observable after its providers, done last', { timeout: 30_000 }, async () => {
    const values = ['split.example.com', 'mild.example.com'];
    let releaseGamma = (): void => undefined;
    gammaMayAnswer = new Promise<void>((resolve) => (releaseGamma = resolve));
    const response = await fetch(`${relay.url}${OBSERVE}?ctim=false`, {
      method: 'POST',
      headers: { ...bearer(token), accept: 'application/x-ndjson', 'content-type': 'application/json' },
      body: JSON.stringify([...values.map((value) => ({ type: 'domain', value })), { type: 'ip', value: '10.0.0.1' }]),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.equal(response.headers.get('cache-control'), 'no-store');

    // Read as a browser would: chunk by chunk. Gamma is held back, so the lines of alpha and beta
    // must arrive before the answer can be complete.
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const chunks: string[] = [];
    while (!chunks.join('').includes('\n')) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the stream ended before any line');
      chunks.push(decoder.decode(value, { stream: true }));
    }
    const early = chunks.join('');
    assert.ok(!early.includes('"done"') && !early.includes('"gamma"'), 'lines are flushed as they arrive, not all at the end');
    releaseGamma();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(decoder.decode(value, { stream: true }));
    }
    const lines = chunks.join('').split('\n');
    assert.equal(lines.pop(), '', 'every line ends with a newline');
    const events = lines.map((line) => JSON.parse(line));

    assert.equal(events.length, values.length * 3 + values.length + 1);
    assert.deepEqual(events.at(-1), { done: true, withheld: [{ type: 'ip', value: '10.0.0.1', reason: 'private address (RFC 1918)' }] });
    for (const value of values) {
      const positions = events.map((event, index) => (event.observable?.value === value ? index : -1)).filter((index) => index >= 0);
      const kinds = positions.map((index) => ('provider' in events[index] ? 'provider' : 'verdict'));
      assert.deepEqual(kinds, ['provider', 'provider', 'provider', 'verdict'], value);
      // Gamma was held back: its line is the last provider line of each observable.
      assert.equal(events[positions[2]!].provider.id, 'gamma');
    }
    const split = events.find((event) => event.observable?.value === 'split.example.com' && 'verdict' in event);
    assert.deepEqual(split, {
      observable: { type: 'domain', value: 'split.example.com' },
      verdict: { disposition: 2, disposition_name: 'Malicious', malicious: 1, suspicious: 0, clean: 1, unknown: 1, answered: 3 },
    });
  });

  test('NDJSON: a request that fails before the stream starts is answered as JSON', async () => {
    const response = await fetch(`${relay.url}${OBSERVE}`, {
      method: 'POST',
      headers: { accept: 'application/x-ndjson', 'content-type': 'application/json' },
      body: JSON.stringify([{ type: 'domain', value: 'split.example.com' }]),
    });
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const answer = (await response.json()) as { errors: { code: string }[] };
    assert.equal(answer.errors[0]?.code, 'authorization error');
  });
});

describe('the privacy guard on the relay modules', () => {
  const PRIVATE_BODY = [
    { type: 'ip', value: '192.168.7.7' },
    { type: 'ip', value: '127.0.0.2' },
    { type: 'ip', value: '169.254.169.254' },
    { type: 'ip', value: '0.0.0.0' },
    { type: 'ip', value: '255.255.255.255' },
    { type: 'ip', value: '224.0.0.251' },
    { type: 'domain', value: 'nas.home.arpa' },
    { type: 'url', value: 'http://printer.local/status' },
    { type: 'url', value: 'http://[fe80::1]/' },
  ];

  test('private and internal observables are dropped like unsupported ones: no call, no error; the count is logged', async () => {
    const fakes = await startFakes();
    const logLines: string[] = [];
    const relay = await startRelay(fakes.env, { logLines });
    try {
      const answer = await relay.post('/cybercrime-tracker/observe/observables', [...PRIVATE_BODY, { type: 'ip', value: '192.0.2.10' }]);
      assert.equal(answer.json.errors, undefined);
      assert.deepEqual(fakes.byId['cybercrime-tracker']?.requests.map((request) => request.url), ['/query.php?url=192.0.2.10'], 'the documentation range is looked up');
      const refer = await relay.post('/cybercrime-tracker/refer/observables', PRIVATE_BODY);
      assert.deepEqual(refer.json, { data: [] });
      const line = logLines.find((entry) => entry.includes('private or internal observables withheld'));
      assert.ok(line !== undefined);
      assert.equal(JSON.parse(line).withheld, PRIVATE_BODY.length);
      assert.equal(JSON.parse(line).level, 20, 'at debug');
      for (const { value } of PRIVATE_BODY) assert.ok(!logLines.some((entry) => entry.includes(value)), value);
    } finally {
      await relay.close();
      await fakes.close();
    }
  });

  test('PRIVATE_OBSERVABLES=send turns the guard off', async () => {
    const fakes = await startFakes();
    const relay = await startRelay({ ...fakes.env, PRIVATE_OBSERVABLES: 'send' });
    try {
      await relay.post('/cybercrime-tracker/observe/observables', [{ type: 'ip', value: '192.168.7.7' }, { type: 'domain', value: 'nas.home.arpa' }]);
      assert.deepEqual(fakes.byId['cybercrime-tracker']?.requests.map((request) => request.url).sort(), ['/query.php?url=192.168.7.7', '/query.php?url=nas.home.arpa']);
    } finally {
      await relay.close();
      await fakes.close();
    }
  });
});

describe('admission control on the enrichment endpoint', () => {
  let relay: RunningRelay;
  let token: string;
  let release: () => void = () => undefined;
  before(async () => {
    const held = new Promise<void>((resolve) => (release = resolve));
    const providers = [verdictProvider('alpha', { 'held.example.com': 'malicious' }, () => held)];
    relay = await startRelay({ PROVIDERS: 'alpha', SECRET_KEY: TEST_SECRET, MAX_REQUESTS_PER_CLIENT: '1' }, { providers });
    token = await hs256Token({ alpha: { key: 'a' } });
  });
  after(async () => {
    release();
    await relay.close();
  });

  test('a client over MAX_REQUESTS_PER_CLIENT is answered at once with too many requests and Retry-After; the held one still answers', async () => {
    const body = [{ type: 'domain', value: 'held.example.com' }];
    const first = relay.post(OBSERVE, body, bearer(token));
    // The first request is admitted once the relay has read it; wait until it is in flight.
    for (let waited = 0; waited < 10_000 && relay.app.relay.admission.requestsInFlight === 0; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const response = await fetch(`${relay.url}${OBSERVE}`, { method: 'POST', body: JSON.stringify(body), headers: { ...bearer(token), 'content-type': 'application/json' } });
    const second = (await response.json()) as { errors: { code: string; message: string }[] };
    assert.equal(second.errors[0]?.code, 'too many requests');
    assert.match(second.errors[0]?.message ?? '', /MAX_REQUESTS_PER_CLIENT/);
    assert.ok(response.headers.get('retry-after') !== null, 'Retry-After is set');
    release();
    const answered = await first;
    assert.equal(answered.json.data.observables[0].verdict.disposition_name, 'Malicious');
  });
});
