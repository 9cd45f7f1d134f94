// `ctr-relay lookup` on the enrichment core, run as a child process against fake providers on
// loopback: standard input, files, the four formats, exit statuses by verdict, withheld values,
// and the upstream gate (one call per needed call, rate limits; shared through Redis).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS } from '../src/cli/lookup-formats.js';
import { pulsediveHandler, PULSEDIVE_TEST_KEY } from '../src/providers/pulsedive/test-support/scenario.js';
import { runCli } from './helpers/cli.js';
import { startFakeUpstream, type FakeHandler, type FakeUpstream } from './helpers/fake-upstream.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { credentialEnv } from './helpers/scenario-env.js';

const REDIS_URL = process.env.TEST_REDIS_URL;

/**
 * A Pulsedive whose risk for each indicator the test chooses (`none` → Clean, `medium` →
 * Suspicious, `high` → Malicious; undefined → not found), answering like the project's fake otherwise.
 */
function pulsediveWithRisk(riskOf: (value: string) => string | undefined, key = PULSEDIVE_TEST_KEY): FakeHandler {
  const base = pulsediveHandler({ key });
  return async (request) => {
    const reply = await base(request);
    const url = new URL(request.url, 'http://pulsedive.invalid');
    const value = url.searchParams.get('indicator');
    if (value === null || url.searchParams.get('get') === 'links' || (reply.status ?? 200) !== 200) return reply;
    const risk = riskOf(value);
    if (risk === undefined) return { status: 404, body: { error: 'Indicator not found.' } };
    return { ...reply, body: { ...(reply.body as object), risk, risk_recommended: risk } };
  };
}

const PULSEDIVE_ENV = (fake: FakeUpstream) => ({ PROVIDERS: 'pulsedive', PULSEDIVE_API_URL: fake.url, PULSEDIVE_UI_URL: fake.url, PULSEDIVE_KEY: PULSEDIVE_TEST_KEY });

/** The values a fake was asked about (Pulsedive's `indicator` parameter). */
function askedAbout(fake: FakeUpstream): string[] {
  return fake.requests.map((request) => new URL(request.url, 'http://fake.invalid').searchParams.get('indicator') ?? '');
}

interface Answer {
  data: {
    observables: {
      type: string;
      value: string;
      verdict: { disposition: number; disposition_name: string; malicious: number; suspicious: number; clean: number; unknown: number; answered: number };
      providers: { id: string; name: string; status: string; verdict?: { disposition_name: string }; ctim?: unknown; error?: { code: string }; reason?: string; links?: unknown[] }[];
    }[];
    withheld: { type: string; value: string; reason: string }[];
  };
}

describe('ctr-relay lookup: input, formats and exit statuses', { concurrency: true }, () => {
  let pulsedive: FakeUpstream;
  const risks: Record<string, string> = {
    '203.0.113.1': 'none',
    '203.0.113.2': 'medium',
    '203.0.113.3': 'high',
    'evil.example.com': 'high',
    'http://evil.example.com/gate.php': 'critical',
  };
  before(async () => {
    pulsedive = await startFakeUpstream(pulsediveWithRisk((value) => risks[value]));
  });
  after(() => pulsedive.close());

  test('standard input: defanged text is refanged, private values withheld on stderr and never sent', async () => {
    const mail = 'From: alerts@corp.internal\nThe C2 is hxxp://evil.example[.]com/gate.php, seen from 10.1.2.3 and 203.0.113[.]1.\n';
    const result = await runCli(['lookup', '-', '--format', 'json'], PULSEDIVE_ENV(pulsedive), undefined, mail);
    assert.equal(result.status, 4, result.stderr);
    const answer = JSON.parse(result.stdout) as Answer;
    const found = answer.data.observables.map((observable) => `${observable.type}:${observable.value}`);
    assert.ok(found.includes('url:http://evil.example.com/gate.php'), found.join(', '));
    assert.ok(found.includes('ip:203.0.113.1'), found.join(', '));
    assert.ok(!found.some((item) => item.includes('10.1.2.3')));
    const withheld = answer.data.withheld.map((item) => item.value);
    assert.ok(withheld.includes('10.1.2.3'), JSON.stringify(answer.data.withheld));
    assert.match(result.stderr, /withheld 10\.1\.2\.3 \(ip\): private address/);
    assert.ok(!askedAbout(pulsedive).includes('10.1.2.3'), 'a private address never reaches a provider');
    assert.ok(!askedAbout(pulsedive).some((value) => value.includes('corp.internal')));
  });

  test('a file, rendered as a table: the consensus first, one line per provider, no links without --links', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctr-relay-lookup-'));
    const file = join(dir, 'report.txt');
    writeFileSync(file, 'Indicators: 203.0.113.3, 203.0.113.2 and invoice.pdf\n');
    const env = { ...PULSEDIVE_ENV(pulsedive), COLUMNS: '80' };
    const result = await runCli(['lookup', '--file', file], env);
    assert.equal(result.status, 4, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^203\.0\.113\.3 {2}ip {2}Malicious {2}1 malicious; 1 of 1 provider answered$/);
    assert.match(lines[1] ?? '', /^ {2}Pulsedive {2}Malicious {2}/);
    assert.match(result.stdout, /^203\.0\.113\.2 {2}ip {2}Suspicious {2}1 suspicious; 1 of 1 provider answered$/m);
    assert.doesNotMatch(result.stdout, /invoice\.pdf/, 'a file name is no domain');
    assert.doesNotMatch(result.stdout, /https?:\/\//, 'no links without --links');
    for (const line of lines) assert.ok(line.length <= 80, `a short line: ${line}`);

    const withLinks = await runCli(['lookup', '--file', file, '--links'], env);
    assert.match(withLinks.stdout, /^ {6}> .+: http:\/\/127\.0\.0\.1:\d+\//m);
  });

  test('no refer links for a provider that knows nothing, even with --links', async () => {
    const result = await runCli(['lookup', '203.0.113.99', '--links'], PULSEDIVE_ENV(pulsedive));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^203\.0\.113\.99 {2}ip {2}Unknown {2}/m);
    assert.match(result.stdout, /Pulsedive {2}nothing known/);
    assert.doesNotMatch(result.stdout, /> /);
  });

  test('--json is --format json: the HTTP answer, with each provider\'s CTIM unless --no-ctim', async () => {
    const json = await runCli(['lookup', '203.0.113.2', '--json'], PULSEDIVE_ENV(pulsedive));
    assert.equal(json.status, 3, json.stderr);
    const answer = JSON.parse(json.stdout) as Answer;
    assert.deepEqual(Object.keys(answer), ['data']);
    const [observable] = answer.data.observables;
    assert.equal(observable?.value, '203.0.113.2');
    assert.deepEqual(observable?.verdict, { disposition: 3, disposition_name: 'Suspicious', malicious: 0, suspicious: 1, clean: 0, unknown: 0, answered: 1 });
    assert.equal(observable?.providers[0]?.id, 'pulsedive');
    assert.equal(observable?.providers[0]?.status, 'ok');
    assert.ok(observable?.providers[0]?.ctim !== undefined, 'ctim by default, as the HTTP API');
    const lean = JSON.parse((await runCli(['lookup', '203.0.113.2', '--format', 'json', '--no-ctim'], PULSEDIVE_ENV(pulsedive))).stdout) as Answer;
    assert.equal(lean.data.observables[0]?.providers[0]?.ctim, undefined);
  });

  test('ndjson: a line per provider result, a verdict line per observable, a last done line', async () => {
    const result = await runCli(['lookup', '203.0.113.1', '203.0.113.3', '10.0.0.1', '--format', 'ndjson', '--no-ctim'], PULSEDIVE_ENV(pulsedive));
    assert.equal(result.status, 4, result.stderr);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 5);
    assert.deepEqual(lines.at(-1), { done: true, withheld: [{ type: 'ip', value: '10.0.0.1', reason: 'private address (RFC 1918)' }] });
    for (const value of ['203.0.113.1', '203.0.113.3']) {
      const mine = lines.filter((line) => (line.observable as { value?: string } | undefined)?.value === value);
      assert.equal(mine.length, 2);
      assert.ok('provider' in (mine[0] ?? {}), 'the provider line comes first');
      assert.ok('verdict' in (mine[1] ?? {}), 'then the verdict line');
      assert.deepEqual(mine[0]?.observable, { type: 'ip', value });
    }
    const verdicts = lines.filter((line) => 'verdict' in line).map((line) => (line.verdict as { disposition_name: string }).disposition_name);
    assert.deepEqual([...verdicts].sort(), ['Clean', 'Malicious']);
  });

  test('csv: a header and a row per observable and provider, quoted where needed', async () => {
    const result = await runCli(['lookup', '203.0.113.1', 'evil.example.com', '--format', 'csv'], PULSEDIVE_ENV(pulsedive));
    assert.equal(result.status, 4, result.stderr);
    const rows = parse(result.stdout, { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(rows[0] ?? {}), [...CSV_COLUMNS]);
    assert.equal(rows.length, 2);
    const byValue = Object.fromEntries(rows.map((row) => [row.value, row]));
    assert.equal(byValue['203.0.113.1']?.consensus, 'Clean');
    assert.equal(byValue['203.0.113.1']?.provider, 'pulsedive');
    assert.equal(byValue['203.0.113.1']?.status, 'ok');
    assert.equal(byValue['evil.example.com']?.type, 'domain');
    assert.equal(byValue['evil.example.com']?.verdict, 'Malicious');
    assert.match(byValue['evil.example.com']?.links ?? '', /^http:\/\/127\.0\.0\.1/);
  });

  test('exit statuses: 0 nothing suspicious, 3 suspicious, 4 malicious, 1 failed, 2 usage', async () => {
    const env = PULSEDIVE_ENV(pulsedive);
    assert.equal((await runCli(['lookup', '203.0.113.1'], env)).status, 0, 'Clean');
    assert.equal((await runCli(['lookup', '203.0.113.99'], env)).status, 0, 'Unknown');
    assert.equal((await runCli(['lookup', '203.0.113.1', '203.0.113.2'], env)).status, 3);
    assert.equal((await runCli(['lookup', '203.0.113.2', '203.0.113.3'], env)).status, 4);
    const privateOnly = await runCli(['lookup', '192.168.1.1'], env);
    assert.equal(privateOnly.status, 1);
    assert.match(privateOnly.stderr, /nothing to look up/);
    assert.equal((await runCli(['lookup', '--format', 'xml', '203.0.113.1'], env)).status, 2);
    assert.equal((await runCli(['lookup'], env)).status, 2);
    const failing = await startFakeUpstream(() => ({ status: 503, body: 'down' }));
    try {
      const failed = await runCli(['lookup', '203.0.113.1', '--providers', 'cybercrime-tracker'], { CYBERCRIME_TRACKER_URL: failing.url });
      assert.equal(failed.status, 1);
      assert.match(failed.stdout, /CyberCrime Tracker {2}error {2}service unavailable: /);
    } finally {
      await failing.close();
    }
  });

  test('a usage mistake names the option', async () => {
    const format = await runCli(['lookup', '--format', 'xml', '203.0.113.1']);
    assert.match(format.stderr, /--format accepts table, json, ndjson, csv \(got "xml"\)/);
    const file = await runCli(['lookup', '--file', '/nonexistent/list.txt'], { PROVIDERS: 'cybercrime-tracker' });
    assert.equal(file.status, 2);
    assert.match(file.stderr, /--file "\/nonexistent\/list\.txt" cannot be read \(no such file\)/);
    const both = await runCli(['lookup', '--json', '--format', 'csv', '203.0.113.1']);
    assert.equal(both.status, 2);
  });
});

describe('ctr-relay lookup with every provider', () => {
  const fakes = new Map<string, FakeUpstream>();
  before(async () => {
    for (const scenario of SCENARIOS) fakes.set(scenario.providerId, await startFakeUpstream(scenario.handler));
  });
  after(async () => {
    await Promise.all([...fakes.values()].map((fake) => fake.close()));
  });

  test('each provider that supports a type has a line; one without keys is skipped with a note', async () => {
    const env = Object.assign(
      {},
      ...SCENARIOS.map((scenario) => ({ ...scenario.envFor(fakes.get(scenario.providerId)!.url), ...(scenario.providerId === 'c1fapp' ? {} : credentialEnv(scenario)) })),
    ) as Record<string, string>;
    const result = await runCli(['lookup', '198.51.100.7', 'example.com'], env);
    assert.ok([0, 3, 4].includes(result.status ?? -1), result.stderr);
    assert.match(result.stderr, /skipped C1fApp: set C1FAPP_KEY/);
    const blocks = result.stdout.trimEnd().split('\n\n');
    assert.match(blocks.at(-1) ?? '', /^\d+ refer links? not shown: add --links$/);
    const observables = blocks.slice(0, -1);
    assert.equal(observables.length, 2);
    for (const block of observables) {
      const [head, ...providerLines] = block.split('\n');
      assert.match(head ?? '', /^(198\.51\.100\.7 {2}ip|example\.com {2}domain) {2}(Malicious|Suspicious|Clean|Unknown) {2}/);
      assert.ok(providerLines.every((line) => /^ {2}\S/.test(line)), block);
      assert.match(block, /^ {2}C1fApp +skipped +no credentials$/m);
    }
  });
});

describe('ctr-relay lookup goes through the gate', { concurrency: true }, () => {
  test('one upstream call per needed call: observe and refer share theirs (10 values)', async () => {
    const fake = await startFakeUpstream(pulsediveWithRisk(() => 'low'));
    try {
      const values = Array.from({ length: 10 }, (_, index) => `203.0.113.${index + 10}`);
      const result = await runCli(['lookup', ...values, '--format', 'json', '--no-ctim'], PULSEDIVE_ENV(fake));
      assert.equal(result.status, 3, result.stderr);
      const urls = fake.requests.map((request) => request.url);
      assert.equal(new Set(urls).size, urls.length, 'no call made twice');
      for (const value of values) {
        const calls = askedAbout(fake).filter((asked) => asked === value).length;
        assert.equal(calls, 2, `${value}: its info and its links, once each`);
      }
    } finally {
      await fake.close();
    }
  });

  test('RATE_LIMIT_PULSEDIVE=2/60 and 10 values: at most 2 calls, the rest too many requests', async () => {
    const fake = await startFakeUpstream(pulsediveWithRisk(() => 'low'));
    try {
      const values = Array.from({ length: 10 }, (_, index) => `203.0.113.${index + 30}`);
      const result = await runCli(['lookup', ...values, '--format', 'json', '--no-ctim'], { ...PULSEDIVE_ENV(fake), RATE_LIMIT_PULSEDIVE: '2/60' });
      assert.ok(fake.requests.length <= 2, `${fake.requests.length} calls`);
      assert.ok(fake.requests.length >= 1);
      const answer = JSON.parse(result.stdout) as Answer;
      const limited = answer.data.observables.filter((observable) => observable.providers[0]?.error?.code === 'too many requests');
      assert.ok(limited.length >= 9, `${limited.length} limited`);
      // An observable whose info call got a token is Suspicious (its links call may still have been refused).
      const suspicious = answer.data.observables.some((observable) => observable.verdict.disposition_name === 'Suspicious');
      assert.equal(result.status, suspicious ? 3 : 1);
    } finally {
      await fake.close();
    }
  });

  test('CACHE=off still shares the calls of one lookup and still limits', async () => {
    const fake = await startFakeUpstream(pulsediveWithRisk(() => 'low'));
    try {
      const result = await runCli(['lookup', '203.0.113.50', '--no-ctim', '--json'], { ...PULSEDIVE_ENV(fake), CACHE: 'off' });
      assert.equal(result.status, 3, result.stderr);
      assert.equal(fake.requests.length, 2);
    } finally {
      await fake.close();
    }
  });
});

describe('ctr-relay lookup with REDIS_URL shares the cache and the rate limits', { skip: REDIS_URL === undefined ? 'TEST_REDIS_URL is not set' : false }, () => {
  test('a second run answers from the shared cache; a shared bucket limits across runs', async () => {
    // Keys of this run only: nothing an earlier run left in Redis (cache entries, buckets) counts.
    const cachedKey = `pulsedive-${randomUUID()}`;
    const limitedKey = `pulsedive-${randomUUID()}`;
    const handlers: Record<string, FakeHandler> = { [cachedKey]: pulsediveWithRisk(() => 'high', cachedKey), [limitedKey]: pulsediveWithRisk(() => 'high', limitedKey) };
    const fake = await startFakeUpstream((request) => {
      const key = new URL(request.url, 'http://fake.invalid').searchParams.get('key') ?? '';
      return handlers[key]?.(request) ?? { status: 401, body: {} };
    });
    try {
      const env = { ...PULSEDIVE_ENV(fake), PULSEDIVE_KEY: cachedKey, REDIS_URL: REDIS_URL! };
      const first = await runCli(['lookup', '203.0.113.70', '--json', '--no-ctim'], env);
      assert.equal(first.status, 4, first.stderr);
      const calls = fake.requests.length;
      assert.equal(calls, 2);
      const second = await runCli(['lookup', '203.0.113.70', '--json', '--no-ctim'], env);
      assert.equal(second.status, 4, second.stderr);
      assert.equal(fake.requests.length, calls, 'the second process made no upstream call');

      const limited = { ...env, PULSEDIVE_KEY: limitedKey, RATE_LIMIT_PULSEDIVE: '2/3600', CACHE: 'off' };
      const spend = await runCli(['lookup', '203.0.113.71', '--json', '--no-ctim'], limited);
      assert.equal(spend.status, 4, spend.stderr);
      const refused = await runCli(['lookup', '203.0.113.72', '--json', '--no-ctim'], limited);
      const answer = JSON.parse(refused.stdout) as Answer;
      assert.equal(answer.data.observables[0]?.providers[0]?.error?.code, 'too many requests', 'the bucket the first process spent');
      assert.equal(refused.status, 1);
      assert.equal(fake.requests.length, calls + 2);
    } finally {
      await fake.close();
    }
  });
});
