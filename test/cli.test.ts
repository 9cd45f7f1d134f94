// `ctr-relay` run as a child process against fake providers: help, lookup (table and --json),
// module types for every registered module, serve.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import { guessObservableType } from '../src/cli/guess-type.js';
import { credentialEnvName, credentialFields } from '../src/cli/credentials.js';
import { exitStatusOf, type AnswerView } from '../src/cli/answer-view.js';
import { renderLookupTable } from '../src/cli/lookup-table.js';
import { COLOURS, PLAIN, type Palette } from '../src/cli/palette.js';
import { PROVIDERS } from '../src/providers/registry.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import type { ProviderScenario } from './helpers/scenario.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { credentialEnv, providerOf } from './helpers/scenario-env.js';

/** The start of an ANSI colour code. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[`);

describe('ctr-relay --help', { concurrency: true }, () => {
  test('the overview lists every command', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.status, 0, result.stderr);
    for (const command of ['serve', 'lookup', 'mcp', 'jwt', 'module-type']) assert.match(result.stdout, new RegExp(`^  ${command} `, 'm'));
  });

  for (const command of ['serve', 'lookup', 'mcp', 'jwt', 'module-type']) {
    test(`${command} --help shows its usage and exits 0`, async () => {
      const result = await runCli([command, '--help']);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: ctr-relay ${command}`));
    });
  }

  test('an unknown command or option is a usage error (exit 2)', async () => {
    const unknownCommand = await runCli(['frobnicate']);
    assert.equal(unknownCommand.status, 2);
    assert.match(unknownCommand.stderr, /Unknown command "frobnicate"/);
    const unknownOption = await runCli(['lookup', '--frobnicate', '1.2.3.4']);
    assert.equal(unknownOption.status, 2);
    assert.match(unknownOption.stderr, /--frobnicate/);
  });
});

describe('observable types guessed by lookup', () => {
  const cases: [string, string][] = [
    ['198.51.100.7', 'ip'],
    ['2001:db8::1', 'ipv6'],
    ['http://c2.example.net/gate.php', 'url'],
    ['c2.example.net/gate.php?id=1', 'url'],
    ['user@example.com', 'email'],
    ['d41d8cd98f00b204e9800998ecf8427e', 'md5'],
    ['da39a3ee5e6b4b0d3255bfef95601890afd80709', 'sha1'],
    ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'sha256'],
    ['example.com', 'domain'],
    ['deadbeef', 'domain'],
  ];
  for (const [value, type] of cases) {
    test(`${value} is ${type}`, () => assert.equal(guessObservableType(value), type));
  }
});

describe('the lookup table', () => {
  const answer: AnswerView = {
    observables: [
      {
        type: 'ip',
        value: '198.51.100.7',
        verdict: { disposition: 2, disposition_name: 'Malicious', malicious: 1, suspicious: 0, clean: 0, unknown: 1, answered: 2 },
        providers: [
          {
            id: 'one',
            name: 'Provider One',
            status: 'ok',
            verdict: { disposition: 2, disposition_name: 'Malicious' },
            counts: { judgements: 1, sightings: 2, indicators: 1, relationships: 0 },
            titles: ['Seen in feed A', 'Feed: A', `Keitaro ${'very long title '.repeat(20)}`],
            links: [{ title: 'Search for this IP', url: `https://provider.example/ip/198.51.100.7?${'q'.repeat(500)}` }],
          },
          {
            id: 'two',
            name: 'Provider Two',
            status: 'ok',
            counts: { judgements: 0, sightings: 0, indicators: 0, relationships: 0 },
            titles: [],
            links: [{ title: 'Search', url: 'https://two.example/search?q=198.51.100.7' }],
          },
          { id: 'three', name: 'Provider Three', status: 'error', error: { code: 'too many requests', message: 'Too many requests to Provider Three.' } },
          { id: 'four', name: 'Four', status: 'skipped', reason: 'no credentials' },
          {
            id: 'five',
            name: 'Provider Five',
            status: 'ok',
            verdict: { disposition: 1, disposition_name: 'Clean' },
            counts: { judgements: 1, sightings: 0, indicators: 0, relationships: 0 },
            titles: ['Allow-listed'],
            links: [],
            error: { code: 'service unavailable', message: 'Provider Five is unavailable.' },
          },
        ],
      },
    ],
    withheld: [],
  };
  const render = (palette: Palette, links = false) => renderLookupTable(answer, { palette, links, width: 100 });

  test('the consensus first, then one short line per provider; no links without --links', () => {
    const lines = render(PLAIN).trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 1), ['198.51.100.7  ip  Malicious  1 malicious, 1 unknown; 2 of 5 providers answered']);
    assert.match(lines[1] ?? '', /^ {2}Provider One {4}Malicious {6}1 judgement, 2 sightings, 1 indicator · Seen in feed A; Feed: A; .*…$/);
    assert.match(lines[2] ?? '', /^ {2}Provider Two {4}nothing known$/);
    assert.match(lines[3] ?? '', /^ {2}Provider Three {2}error {10}too many requests: Too many requests to Provider Three\.$/);
    assert.match(lines[4] ?? '', /^ {2}Four {12}skipped {8}no credentials$/);
    assert.match(lines[5] ?? '', /^ {2}Provider Five {3}Clean {10}1 judgement · links: service unavailable · Allow-listed$/, 'refer failed, observe answered');
    assert.deepEqual(lines.slice(6), ['', '1 refer link not shown: add --links'], 'the links of providers that know nothing are not counted');
    for (const line of lines) assert.ok(line.length <= 100, line);
  });

  test('--links: the links of providers that know something, one per line', () => {
    const lines = render(PLAIN, true).trimEnd().split('\n');
    const links = lines.filter((line) => line.startsWith('      > '));
    assert.equal(links.length, 1);
    assert.match(links[0] ?? '', /^ {6}> Search for this IP: https:\/\/provider\.example\/ip\//);
    assert.doesNotMatch(lines.join('\n'), /two\.example/, 'no links for a provider that knows nothing');
  });

  test('is plain text without colour, coloured with it, and the same once codes are stripped', () => {
    const plain = render(PLAIN);
    const coloured = render(COLOURS);
    assert.doesNotMatch(plain, ANSI);
    assert.match(coloured, ANSI);
    assert.equal(stripVTControlCharacters(coloured), plain);
  });

  test('the exit status follows the most severe consensus, else whether every observable got an answer', () => {
    const withVerdict = (disposition: number, answered = 1): AnswerView => ({
      observables: [{ ...answer.observables[0]!, verdict: { ...answer.observables[0]!.verdict, disposition, answered }, providers: answered === 0 ? [] : answer.observables[0]!.providers }],
      withheld: [],
    });
    assert.equal(exitStatusOf(withVerdict(2)), 4);
    assert.equal(exitStatusOf(withVerdict(3)), 3);
    assert.equal(exitStatusOf(withVerdict(1)), 0);
    assert.equal(exitStatusOf(withVerdict(5)), 0);
    assert.equal(exitStatusOf(withVerdict(5, 0)), 1, 'no provider of a type: nothing looked up');
    const unsupportedBeside = withVerdict(1);
    assert.equal(exitStatusOf({ ...unsupportedBeside, observables: [...unsupportedBeside.observables, { ...withVerdict(5, 0).observables[0]!, value: 'a@b.example' }] }), 0, 'an observable no provider supports fails nothing');
    const failedBeside = { ...answer.observables[0]!, verdict: { ...answer.observables[0]!.verdict, disposition: 5 }, providers: [answer.observables[0]!.providers[2]!] };
    assert.equal(exitStatusOf({ observables: [...unsupportedBeside.observables, failedBeside], withheld: [] }), 1, 'one whose providers all failed fails');
    assert.equal(exitStatusOf({ observables: [], withheld: [] }), 1);
  });
});

describe('ctr-relay lookup against fake providers', { concurrency: true }, () => {
  const fakes = new Map<string, FakeUpstream>();
  before(async () => {
    for (const scenario of SCENARIOS) fakes.set(scenario.providerId, await startFakeUpstream(scenario.handler));
  });
  after(async () => {
    await Promise.all([...fakes.values()].map((fake) => fake.close()));
  });

  function envFor(scenarios: readonly ProviderScenario[]): Record<string, string> {
    return Object.assign({}, ...scenarios.map((scenario) => ({ ...scenario.envFor(fakes.get(scenario.providerId)!.url), ...credentialEnv(scenario) })));
  }

  for (const scenario of SCENARIOS) {
    test(`${scenario.providerId}: a table with what the provider knows, progress on stderr`, async () => {
      const provider = providerOf(scenario);
      const [observable] = scenario.observables(1);
      assert.ok(observable);
      const fake = fakes.get(scenario.providerId)!;
      const before = fake.requests.length;
      const result = await runCli(['lookup', observable.value, '--type', observable.type, '--providers', provider.id], envFor([scenario]));
      // Exit status by verdict: the fakes know something of every value they are asked about.
      assert.ok([0, 3, 4].includes(result.status ?? -1), result.stderr);
      assert.ok(fake.requests.length > before, 'the fake provider was called');
      assert.match(result.stdout, new RegExp(`^${observable.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  ${observable.type}  (Malicious|Suspicious|Clean|Unknown)  `, 'm'));
      assert.match(result.stdout, new RegExp(`^  ${provider.displayName}\\s`, 'm'));
      assert.doesNotMatch(result.stdout, ANSI, 'no colour when piped');
      assert.match(result.stderr, /\[1\/1\]/, 'progress on stderr');
      assert.doesNotMatch(result.stdout, /\[1\/1\]/);
    });

    test(`${scenario.providerId}: --json prints the lookup answer of the HTTP API`, async () => {
      const provider = providerOf(scenario);
      const [observable] = scenario.observables(1);
      assert.ok(observable);
      const result = await runCli(['lookup', observable.value, '--type', observable.type, '--providers', provider.id, '--json'], envFor([scenario]));
      assert.ok([0, 3, 4].includes(result.status ?? -1), result.stderr);
      const answer = JSON.parse(result.stdout) as { data: { observables: { type: string; value: string; providers: { id: string; status: string; ctim?: object }[] }[]; withheld: unknown[] } };
      assert.deepEqual(answer.data.withheld, []);
      const [found] = answer.data.observables;
      assert.deepEqual({ type: found?.type, value: found?.value }, observable);
      assert.equal(found?.providers[0]?.id, provider.id);
      assert.equal(found?.providers[0]?.status, 'ok');
      assert.ok(Object.keys(found?.providers[0]?.ctim ?? {}).length > 0, 'the fake knows the observable');
    });
  }

  test('several providers at once; one without credentials is skipped with a note', async () => {
    const withCredentials = SCENARIOS.find((scenario) => scenario.credentials !== null);
    const cybercrime = SCENARIOS.find((scenario) => scenario.providerId === 'cybercrime-tracker');
    assert.ok(cybercrime);
    const env = envFor([cybercrime]);
    const ids = ['cybercrime-tracker', ...(withCredentials === undefined ? [] : [withCredentials.providerId])];
    const result = await runCli(['lookup', '198.51.100.7', 'example.com', '--providers', ids.join(',')], env);
    assert.ok([0, 3, 4].includes(result.status ?? -1), result.stderr);
    assert.match(result.stdout, /^198\.51\.100\.7 {2}ip {2}/m);
    assert.match(result.stdout, /^example\.com {2}domain {2}/m);
    if (withCredentials !== undefined) {
      const provider = providerOf(withCredentials);
      const variables = credentialFields(provider).map((field) => credentialEnvName(provider, field));
      assert.match(result.stderr, new RegExp(`skipped ${provider.displayName}: set ${variables.join(' and ')}`));
    }
  });

  test('colour with FORCE_COLOR, none with NO_COLOR', async () => {
    const cybercrime = SCENARIOS.find((scenario) => scenario.providerId === 'cybercrime-tracker')!;
    const env = envFor([cybercrime]);
    const coloured = await runCli(['lookup', '198.51.100.7', '--providers', 'cybercrime-tracker'], { ...env, FORCE_COLOR: '1' });
    assert.match(coloured.stdout, ANSI);
    const plain = await runCli(['lookup', '198.51.100.7', '--providers', 'cybercrime-tracker'], { ...env, FORCE_COLOR: '1', NO_COLOR: '1' });
    assert.doesNotMatch(plain.stdout, ANSI);
  });

  test('a provider failure is shown under its row and the exit status is 1', async () => {
    const failing = await startFakeUpstream(() => ({ status: 503, body: 'down' }));
    try {
      const result = await runCli(['lookup', '198.51.100.7', '--providers', 'cybercrime-tracker'], { CYBERCRIME_TRACKER_URL: failing.url });
      assert.equal(result.status, 1);
      assert.match(result.stdout, /CyberCrime Tracker\s+error/);
      assert.match(result.stdout, /error {2}service unavailable: /);
    } finally {
      await failing.close();
    }
  });

  test('an invalid value is skipped; a bad --type or unknown provider is a usage error', async () => {
    const invalid = await runCli(['lookup', '300.1.1.1', '--type', 'ip', '--providers', 'cybercrime-tracker']);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /skipped "300\.1\.1\.1": not a valid ip/);
    const badType = await runCli(['lookup', 'x', '--type', 'hash']);
    assert.equal(badType.status, 2);
    assert.match(badType.stderr, /--type accepts ip, ipv6/);
    const badProvider = await runCli(['lookup', '198.51.100.7', '--providers', 'nobody']);
    assert.equal(badProvider.status, 2);
    assert.match(badProvider.stderr, /PROVIDERS accepts a comma list of .* \(unknown: nobody\)/);
  });
});

// `ctr-relay jwt`: test/jwt.test.ts.

describe('ctr-relay module-type', { concurrency: true }, () => {
  for (const provider of PROVIDERS) {
    test(`${provider.id}: the module type to register in Threat Response`, async () => {
      const result = await runCli(['module-type', provider.id, '--url', 'https://relay.example.com/']);
      assert.equal(result.status, 0, result.stderr);
      const moduleType = JSON.parse(result.stdout);
      assert.match(moduleType.title, new RegExp(provider.displayName));
      assert.equal(moduleType.default_name, provider.displayName);
      assert.equal(typeof moduleType.short_description, 'string');
      assert.equal(typeof moduleType.description, 'string');
      assert.equal(moduleType.properties.url, `https://relay.example.com/${provider.id}`);

      const apis = ['health', ...(provider.deliberate ? ['deliberate/observables'] : []), 'observe/observables', ...(provider.refer ? ['refer/observables'] : [])];
      assert.deepEqual(moduleType.properties['supported-apis'], apis);
      assert.deepEqual(
        moduleType.capabilities.map((capability: { id: string }) => capability.id),
        apis.map((api) => api.split('/')[0]),
      );

      const fields = credentialFields(provider);
      if (fields.length === 0) {
        assert.equal(moduleType.configuration_spec, undefined);
        assert.equal(moduleType.properties['auth-type'], undefined);
        return;
      }
      assert.equal(moduleType.properties['auth-type'], 'configuration-token');
      assert.equal(moduleType.properties['configuration-token-alg'], 'HS256');
      const spec = moduleType.configuration_spec as { key: string; type: string; required: boolean }[];
      assert.deepEqual(
        spec.map((field) => field.key),
        [...fields.map((field) => `custom_${field}`), 'custom_CTR_ENTITIES_LIMIT'],
      );
      for (const field of spec.slice(0, -1)) {
        assert.ok(['api_key', 'password'].includes(field.type), `${field.key} is masked`);
        assert.equal(field.required, true);
      }
      assert.deepEqual(spec.at(-1), { ...spec.at(-1), type: 'integer', required: false });
    });
  }

  test('RS256 names the JWKS host; the URL may come from PUBLIC_URL', async () => {
    const result = await runCli(['module-type', 'xforce', '--alg', 'RS256', '--jwks-host', 'visibility.eu.amp.cisco.com'], { PUBLIC_URL: 'https://relay.example.com' });
    assert.equal(result.status, 0, result.stderr);
    const { properties } = JSON.parse(result.stdout);
    assert.equal(properties['configuration-token-alg'], 'RS256');
    assert.equal(properties.custom_jwks_host, 'visibility.eu.amp.cisco.com');
    assert.equal(properties.url, 'https://relay.example.com/xforce');
  });

  test('an unknown module or a missing URL is a usage error', async () => {
    const unknown = await runCli(['module-type', 'nobody', '--url', 'https://relay.example.com']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown module "nobody"; known: /);
    const noUrl = await runCli(['module-type', 'xforce']);
    assert.equal(noUrl.status, 2);
    assert.match(noUrl.stderr, /--url is required/);
  });
});

describe('ctr-relay serve', () => {
  test('listens, answers /healthz and exits 0 on SIGTERM', async () => {
    const child = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1'], { LOG_LEVEL: 'info', PROVIDERS: 'cybercrime-tracker' });
    let output = '';
    const address = new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', () => reject(new Error(`serve exited early: ${output}`)));
    });
    const url = await address;
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
