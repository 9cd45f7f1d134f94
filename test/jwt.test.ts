// `ctr-relay jwt` run as a child process, as an operator would, and its tokens used against a
// started relay: the SECRET_KEY they agree on (from the environment or .env), the provider claim
// that binds a token to its module, aud and exp, multi-provider tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { decodeJwt } from 'jose';
import { credentialFields } from '../src/cli/credentials.js';
import { HS256_MESSAGES } from '../src/core/errors.js';
import { runCli } from './helpers/cli.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { startRelay } from './helpers/relay.js';
import { SCENARIOS } from './helpers/scenarios.js';
import { credentialEnv, providerOf } from './helpers/scenario-env.js';
import { bearer, hs256Token } from './helpers/tokens.js';

function parseOutput(stdout: string): { secretKey: string | undefined; token: string } {
  const secretKey = /^SECRET_KEY=(.+)$/m.exec(stdout)?.[1];
  const token = /^JWT=(.+)$/m.exec(stdout)?.[1];
  assert.ok(token, stdout);
  return { secretKey, token };
}

const A_SECRET = 'jwt-test-secret-0123456789abcdef0123456789abcdef';

describe('ctr-relay jwt', { concurrency: true }, () => {
  const fakes = new Map<string, FakeUpstream>();
  const withCredentials = SCENARIOS.filter((scenario) => scenario.credentials !== null);
  let allEnv: Record<string, string | undefined> = {};
  before(async () => {
    for (const scenario of SCENARIOS) fakes.set(scenario.providerId, await startFakeUpstream(scenario.handler));
    allEnv = Object.assign({ PROVIDERS: SCENARIOS.map((scenario) => scenario.providerId).join(',') }, ...SCENARIOS.map((scenario) => scenario.envFor(fakes.get(scenario.providerId)!.url)));
  });
  after(async () => {
    await Promise.all([...fakes.values()].map((fake) => fake.close()));
  });

  for (const scenario of withCredentials) {
    test(`${scenario.providerId}: without SECRET_KEY, a new one (said on stderr) and a token bound to the module`, async () => {
      const provider = providerOf(scenario);
      const flags = Object.entries(scenario.credentials ?? {}).flatMap(([field, value]) => [`--${field}`, value]);
      const result = await runCli(['jwt', '--provider', provider.id, ...flags]);
      assert.equal(result.status, 0, result.stderr);
      const { secretKey, token } = parseOutput(result.stdout);
      assert.match(secretKey ?? '', /^[0-9a-f]{64}$/);
      assert.match(result.stderr, /No SECRET_KEY is set \(environment or \.env\): made a new one/);
      const payload = decodeJwt(token);
      assert.deepEqual(Object.keys(payload).filter((name) => name !== 'iat' && name !== 'provider').sort(), credentialFields(provider).sort());
      assert.equal(payload.provider, provider.id);
      assert.equal(payload.exp, undefined);

      const single = await startRelay({ PROVIDERS: provider.id, SECRET_KEY: secretKey, ...scenario.envFor(fakes.get(scenario.providerId)!.url) });
      try {
        assert.deepEqual((await single.post(`/${provider.id}/health`, undefined, bearer(token))).json, { data: { status: 'ok' } });
        const forged = await hs256Token({ ...scenario.credentials }, 'another-secret-0123456789abcdef0123456789abcdef');
        assert.equal((await single.post(`/${provider.id}/health`, undefined, bearer(forged))).json.errors[0].message, `Authorization failed: ${HS256_MESSAGES.badSignature}`);
      } finally {
        await single.close();
      }
    });
  }

  test('jwt and the relay agree on SECRET_KEY from .env; with every module mounted the token works on its own module only', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ctr-relay-jwt-'));
    const otx = SCENARIOS.find((scenario) => scenario.providerId === 'otx')!;
    const secretKey = 'dotenv-secret-key-0123456789abcdef0123456789abcdef';
    writeFileSync(join(directory, '.env'), `SECRET_KEY=${secretKey}\n${Object.entries(credentialEnv(otx)).map(([name, value]) => `${name}=${value}`).join('\n')}\n`);
    const result = await runCli(['jwt', '--provider', 'otx'], {}, directory);
    assert.equal(result.status, 0, result.stderr);
    const { secretKey: printed, token } = parseOutput(result.stdout);
    assert.equal(printed, undefined, 'a SECRET_KEY that was set is not printed again');
    assert.ok(!result.stdout.includes(secretKey) && !result.stderr.includes(secretKey));
    assert.match(result.stderr, /Signing with SECRET_KEY from the environment \(or \.env\)/);

    // The relay reads the same .env (as `npm start` does, through dotenv).
    const fromDotenv = parseDotenv(`SECRET_KEY=${secretKey}\n`);
    const relay = await startRelay({ ...allEnv, SECRET_KEY: fromDotenv.SECRET_KEY });
    try {
      assert.deepEqual((await relay.post('/otx/health', undefined, bearer(token))).json, { data: { status: 'ok' } });
      const pulsedive = fakes.get('pulsedive')!;
      assert.deepEqual((await relay.post('/pulsedive/health', undefined, bearer(token))).json, {
        errors: [{ type: 'fatal', code: 'authorization error', message: `Authorization failed: ${HS256_MESSAGES.otherProvider('otx', 'pulsedive')}` }],
      });
      // Other tests share this fake (a late call of theirs may land now): look for the key, not a count.
      const otxKey = otx.credentials!.key!;
      assert.ok(
        pulsedive.requests.every((request) => !request.url.includes(encodeURIComponent(otxKey)) && !request.url.includes(otxKey) && !request.body.includes(otxKey)),
        'the OTX key was not sent to Pulsedive',
      );
    } finally {
      await relay.close();
    }
  });

  test('a SECRET_KEY the relay would refuse is refused, without echoing it', async () => {
    for (const [args, env, message] of [
      [['--provider', 'otx', '--key', 'k'], { SECRET_KEY: 'too-short' }, /SECRET_KEY must be at least 32 bytes.*openssl rand -hex 32/],
      [['--provider', 'otx', '--key', 'k', '--secret', 'also-too-short'], {}, /--secret must be at least 32 bytes/],
    ] as const) {
      const result = await runCli(['jwt', ...args], env);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /too-short/);
      assert.equal(result.stdout, '');
    }
  });

  test('--secret, --entities-limit, --expires-in and --audience end up in the token; credentials may come from the environment', async () => {
    const otxKey = SCENARIOS.find((scenario) => scenario.providerId === 'otx')!.credentials!.key!;
    const result = await runCli(
      ['jwt', '--provider', 'otx', '--secret', A_SECRET, '--entities-limit', '25', '--expires-in', '30d', '--audience', 'https://relay.example.com/otx/'],
      { OTX_KEY: otxKey, SECRET_KEY: 'ignored-because-secret-flag-wins-0123456789' },
    );
    assert.equal(result.status, 0, result.stderr);
    const { secretKey, token } = parseOutput(result.stdout);
    assert.equal(secretKey, undefined);
    const payload = decodeJwt(token);
    assert.equal(payload.key, otxKey);
    assert.equal(payload.provider, 'otx');
    assert.equal(payload.CTR_ENTITIES_LIMIT, 25);
    assert.equal(payload.aud, 'https://relay.example.com/otx');
    assert.equal(payload.exp, (payload.iat as number) + 30 * 86_400);
    assert.match(result.stderr, /key: from OTX_KEY/);
    assert.match(result.stderr, /Signing with the key given with --secret/);
    assert.ok(!result.stderr.includes(otxKey), 'the credential is not echoed');

    // The relay checks exp and aud of such a token: signed with A_SECRET, for PUBLIC_URL's module.
    const relay = await startRelay({ ...allEnv, SECRET_KEY: A_SECRET, PUBLIC_URL: 'https://relay.example.com' });
    try {
      assert.deepEqual((await relay.post('/otx/health', undefined, bearer(token))).json, { data: { status: 'ok' } });
    } finally {
      await relay.close();
    }
  });

  test('--public-url takes the audience from PUBLIC_URL', async () => {
    const result = await runCli(['jwt', '--provider', 'pulsedive', '--key', 'k', '--public-url'], { PUBLIC_URL: 'https://relay.example.com/', SECRET_KEY: A_SECRET });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(decodeJwt(parseOutput(result.stdout).token).aud, 'https://relay.example.com/pulsedive');
    const missing = await runCli(['jwt', '--provider', 'pulsedive', '--key', 'k', '--public-url'], { SECRET_KEY: A_SECRET });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--public-url needs PUBLIC_URL/);
  });

  test('--provider a,b,c makes a multi-provider token: credentials under each id, from the environment', async () => {
    const env = Object.assign({ SECRET_KEY: A_SECRET, PUBLIC_URL: 'https://relay.example.com' }, ...withCredentials.map(credentialEnv));
    const result = await runCli(['jwt', '--provider', 'xforce,pulsedive,cybercrime-tracker,otx,c1fapp', '--public-url', '--entities-limit', '50'], env);
    assert.equal(result.status, 0, result.stderr);
    const payload = decodeJwt(parseOutput(result.stdout).token);
    for (const scenario of withCredentials) assert.deepEqual(payload[scenario.providerId], scenario.credentials, scenario.providerId);
    assert.equal(payload['cybercrime-tracker'], undefined);
    assert.equal(payload.provider, undefined, 'no module claim: it is not a module token');
    assert.equal(payload.aud, 'https://relay.example.com/enrich');
    assert.equal(payload.CTR_ENTITIES_LIMIT, 50);
    assert.match(result.stderr, /cybercrime-tracker: needs no credentials/);

    // Not a module token: refused by the module routes.
    const relay = await startRelay({ ...allEnv, SECRET_KEY: A_SECRET, PUBLIC_URL: 'https://relay.example.com' });
    try {
      assert.equal((await relay.post('/otx/health', undefined, bearer(parseOutput(result.stdout).token))).json.errors[0].message, 'Authorization failed: Wrong configuration-token-audience');
    } finally {
      await relay.close();
    }

    const withFlags = await runCli(['jwt', '--provider', 'pulsedive,otx', '--key', 'k'], { SECRET_KEY: A_SECRET });
    assert.equal(withFlags.status, 2);
    assert.match(withFlags.stderr, /with several providers, credentials come from the environment \(PULSEDIVE_KEY, OTX_KEY\)/);
  });

  test('usage errors: a missing credential without a terminal, a provider without credentials, bad limits and durations', async () => {
    const cases: [string[], RegExp][] = [
      [['--provider', 'xforce', '--key', 'k'], /--password is required for xforce \(or set XFORCE_PASSWORD\)/],
      [['--provider', 'cybercrime-tracker'], /CyberCrime Tracker needs no credentials/],
      [['--provider', 'otx', '--key', 'k', '--entities-limit', '0'], /--entities-limit accepts a whole number from 1 to 1000/],
      [['--provider', 'otx', '--key', 'k', '--expires-in', 'soon'], /--expires-in accepts a duration such as/],
      [['--provider', 'otx', '--key', 'k', '--expires-in', '0d'], /--expires-in accepts a duration such as/],
      [['--provider', 'nope', '--key', 'k'], /--provider accepts xforce, pulsedive, otx, c1fapp/],
      [['--provider', 'otx', '--key', 'k', '--audience', 'ftp://x', '--secret', A_SECRET], /the audience must be an absolute http/],
      [['--provider', 'pulsedive,otx'], /PULSEDIVE_KEY is required for pulsedive/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(['jwt', ...args])));
    cases.forEach(([args, message], index) => {
      const result = results[index]!;
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    });
  });
});
