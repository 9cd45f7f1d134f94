// Authentication through the real server: every message of the contract's table.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, generateKeyPair } from 'jose';
import { echoProvider } from './helpers/echo-provider.js';
import { HS256_MESSAGES } from '../src/core/errors.js';
import { defineProvider } from '../src/core/provider.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { keyedProvider } from './helpers/keyed-provider.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { TEST_SECRET, bearer, hs256Token, moduleToken, startJwksServer, type JwksServer } from './helpers/tokens.js';

const OBSERVE = '/echo/observe/observables';
const BODY = [{ type: 'ip', value: '1.2.3.4' }];

function expectAuthError(answer: { status: number; json: any }, message: string): void {
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.json, { errors: [{ type: 'fatal', code: 'authorization error', message: `Authorization failed: ${message}` }] });
}

function unsigned(payload: object, header: object = { alg: 'none', typ: 'JWT' }): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.`;
}

describe('HS256 tokens', () => {
  let relay: RunningRelay;
  before(async () => {
    relay = await startRelay({ PROVIDERS: 'echo', SECRET_KEY: TEST_SECRET }, { providers: [echoProvider] });
  });
  after(() => relay.close());

  test('a valid token gets the data', async () => {
    const answer = await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k' })));
    assert.equal(answer.json.data.verdicts.docs[0].observable.value, '1.2.3.4');
  });

  test('no header', async () => expectAuthError(await relay.post(OBSERVE, BODY), 'Authorization header is missing'));
  test('scheme not Bearer', async () => expectAuthError(await relay.post(OBSERVE, BODY, { authorization: 'Basic abc' }), 'Wrong authorization type'));
  test('not a JWT', async () => expectAuthError(await relay.post(OBSERVE, BODY, bearer('not.a-jwt')), 'Wrong JWT structure'));
  test('oversize token', async () =>
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k'.repeat(9000) }))), 'Wrong JWT structure'));
  test('payload without the provider fields', async () =>
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ other: 'x' }))), 'Wrong JWT payload structure'));
  test('payload with a wrong field type', async () =>
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 42 }))), 'Wrong JWT payload structure'));
  test('wrong key: its own words about SECRET_KEY, not SecureX or jwks hosts', async () =>
    expectAuthError(
      await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k' }, 'another-secret-another-secret-another'))),
      HS256_MESSAGES.badSignature,
    ));
  test('alg none is refused', async () =>
    expectAuthError(
      await relay.post(OBSERVE, BODY, bearer(unsigned({ key: 'k' }))),
      'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to your SecureX instance region.',
    ));
  test('expired', async () =>
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k' }, TEST_SECRET, { exp: Math.floor(Date.now() / 1000) - 60 }))), 'The JWT has expired'));
  test('not yet valid', async () =>
    expectAuthError(
      await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k' }, TEST_SECRET, { nbf: Math.floor(Date.now() / 1000) + 3600 }))),
      'The JWT is not yet valid',
    ));
  test('a carried audience must be the module URL', async () => {
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k', aud: 'https://elsewhere.example/echo' }))), 'Wrong configuration-token-audience');
    const good = await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k', aud: `${relay.url}/echo` })));
    assert.ok(good.json.data);
  });
  test('the entities limit comes from the token', async () => {
    // Echo makes one judgement per observable, so only the answer shape can show it: a bad limit must not break anything.
    const answer = await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k', CTR_ENTITIES_LIMIT: 'many' })));
    assert.equal(answer.json.data.judgements.count, 1);
  });
  test('a token accepted once, and so remembered, is refused once it has expired', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = bearer(await hs256Token({ key: 'k' }, TEST_SECRET, { exp }));
    assert.ok((await relay.post(OBSERVE, BODY, token)).json.data);
    assert.ok((await relay.post(OBSERVE, BODY, token)).json.data);
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    expectAuthError(await relay.post(OBSERVE, BODY, token), 'The JWT has expired');
  });
  test('the server keeps serving after every bad token', async () => {
    const answer = await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k' })));
    assert.equal(answer.json.data.judgements.count, 1);
  });
});

describe('HS256 without SECRET_KEY', () => {
  test('is refused', async () => {
    const relay = await startRelay({ PROVIDERS: 'echo' }, { providers: [echoProvider] });
    try {
      expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k' }))), HS256_MESSAGES.noSecretKey);
    } finally {
      await relay.close();
    }
  });
});

describe('RS256 tokens with JWKS_URL', () => {
  let relay: RunningRelay;
  let jwks: JwksServer;
  before(async () => {
    jwks = await startJwksServer('kid-1');
    relay = await startRelay({ PROVIDERS: 'echo', JWKS_URL: jwks.url, SECRET_KEY: TEST_SECRET }, { providers: [echoProvider] });
  });
  after(async () => {
    await relay.close();
    await jwks.close();
  });

  test('a token for this module gets the data, and the key set is cached', async () => {
    const token = await jwks.sign({ key: 'k', aud: `${relay.url}/echo` });
    const first = await relay.post(OBSERVE, BODY, bearer(token));
    assert.equal(first.json.data.verdicts.count, 1);
    const hits = jwks.hits;
    await relay.post(OBSERVE, BODY, bearer(token));
    assert.equal(jwks.hits, hits);
  });
  test('wrong audience', async () =>
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await jwks.sign({ key: 'k', aud: 'https://other.example/echo' }))), 'Wrong configuration-token-audience'));
  test('missing audience', async () => expectAuthError(await relay.post(OBSERVE, BODY, bearer(await jwks.sign({ key: 'k' }))), 'Wrong configuration-token-audience'));
  test('unknown kid', async () =>
    expectAuthError(
      await relay.post(OBSERVE, BODY, bearer(await jwks.sign({ key: 'k', aud: `${relay.url}/echo` }, { kid: '../../etc/passwd' }))),
      'kid from JWT header not found in API response',
    ));
  test('expired', async () =>
    expectAuthError(
      await relay.post(OBSERVE, BODY, bearer(await jwks.sign({ key: 'k', aud: `${relay.url}/echo` }, { exp: Math.floor(Date.now() / 1000) - 60 }))),
      'The JWT has expired',
    ));
  test('signed by another key with the same kid', async () => {
    const other = await generateKeyPair('RS256');
    const token = await new SignJWT({ key: 'k', aud: `${relay.url}/echo` }).setProtectedHeader({ alg: 'RS256', kid: 'kid-1' }).sign(other.privateKey);
    expectAuthError(
      await relay.post(OBSERVE, BODY, bearer(token)),
      'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to your SecureX instance region.',
    );
  });
  test('HS256 signed with the RSA public key (algorithm confusion) is refused', async () => {
    const publicKeyText = JSON.stringify(jwks.publicJwk);
    const token = await new SignJWT({ key: 'k', aud: `${relay.url}/echo` }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(publicKeyText));
    // Verified with SECRET_KEY, never with the RSA key: a signature that does not match it.
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(token)), HS256_MESSAGES.badSignature);
  });
});

describe('RS256 tokens with jwks_host', () => {
  let relay: RunningRelay;
  let hits = 0;
  let closeTrap: () => Promise<void>;
  let trapPort = 0;
  before(async () => {
    // Any request reaching this server is a failure: jwks_host outside the allow-list must never be contacted.
    const trap = createServer((_request, response) => {
      hits += 1;
      response.end('{"keys": []}');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    trapPort = (trap.address() as AddressInfo).port;
    closeTrap = () => new Promise<void>((resolve) => trap.close(() => resolve()));
    relay = await startRelay({ PROVIDERS: 'echo' }, { providers: [echoProvider] });
  });
  after(async () => {
    await relay.close();
    await closeTrap();
  });

  async function rsToken(payload: object): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256');
    return new SignJWT({ key: 'k', aud: `${relay.url}/echo`, ...payload }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
  }

  test('without jwks_host', async () =>
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await rsToken({}))), 'jwks_host is missing in JWT payload. Make sure custom_jwks_host field is present in module_type'));

  for (const host of [`127.0.0.1:${0}`, 'localhost', '10.0.0.1', '169.254.169.254', 'visibility.amp.cisco.com.evil.example', 'visibility.amp.cisco.com/path', 'visibility.amp.cisco.com@127.0.0.1']) {
    test(`jwks_host ${host} outside the allow-list is refused without any request`, async () => {
      const target = host.replace(':0', `:${trapPort}`);
      expectAuthError(
        await relay.post(OBSERVE, BODY, bearer(await rsToken({ jwks_host: target }))),
        'Wrong jwks_host in JWT payload. Make sure domain follows the visibility.<region>.cisco.com structure',
      );
      assert.equal(hits, 0);
    });
  }

  test('a jwks_host of the wrong type is refused', async () =>
    expectAuthError(
      await relay.post(OBSERVE, BODY, bearer(await rsToken({ jwks_host: ['visibility.amp.cisco.com'] }))),
      'Wrong jwks_host in JWT payload. Make sure domain follows the visibility.<region>.cisco.com structure',
    ));

  test('an allowed host that cannot be reached is a wrong jwks_host', async () => {
    const local = await startRelay({ PROVIDERS: 'echo', JWKS_HOSTS: `127.0.0.1:${trapPort}` }, { providers: [echoProvider] });
    try {
      // https to a plain-HTTP port fails the TLS handshake: unreachable as far as keys go.
      expectAuthError(
        await local.post(OBSERVE, BODY, bearer(await rsToken({ jwks_host: `127.0.0.1:${trapPort}`, aud: `${local.url}/echo` }))),
        'Wrong jwks_host in JWT payload. Make sure domain follows the visibility.<region>.cisco.com structure',
      );
    } finally {
      await local.close();
    }
  });
});

test('unsupported algorithms are refused', async () => {
  const relay = await startRelay({ PROVIDERS: 'echo', SECRET_KEY: TEST_SECRET }, { providers: [echoProvider] });
  try {
    const hs512 = await new SignJWT({ key: 'k' }).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(TEST_SECRET));
    expectAuthError(
      await relay.post(OBSERVE, BODY, bearer(hs512)),
      'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to your SecureX instance region.',
    );
  } finally {
    await relay.close();
  }
});


describe('HS256 tokens are bound to their module when several are mounted', () => {
  // A second module with the same credentials shape as echo (as OTX and Pulsedive share `key`).
  const otherProvider = defineProvider({ ...echoProvider, id: 'other', displayName: 'Other' });
  let relay: RunningRelay;
  let fake: FakeUpstream;
  before(async () => {
    fake = await startFakeUpstream(() => ({ status: 200, body: {} }));
    relay = await startRelay(
      { PROVIDERS: 'echo,other,keyed', SECRET_KEY: TEST_SECRET, KEYED_URL: fake.url },
      { providers: [echoProvider, otherProvider, keyedProvider] },
    );
  });
  after(async () => {
    await relay.close();
    await fake.close();
  });

  test('a token naming no module (no provider claim, no aud) is refused, saying how to make one', async () => {
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k' }))), HS256_MESSAGES.notBound('echo'));
    assert.match(HS256_MESSAGES.notBound('echo'), /not bound to this module \(echo\).*ctr-relay jwt --provider echo/);
  });
  test('a provider claim binds it: accepted by its module, refused by another (remembered or not)', async () => {
    const token = bearer(await moduleToken('echo', { key: 'k' }));
    assert.equal((await relay.post(OBSERVE, BODY, token)).json.data.judgements.count, 1);
    assert.equal((await relay.post(OBSERVE, BODY, token)).json.data.judgements.count, 1);
    expectAuthError(await relay.post('/other/observe/observables', BODY, token), HS256_MESSAGES.otherProvider('echo', 'other'));
  });
  test('aud binds it: the module URL is accepted, another module URL is a wrong audience', async () => {
    const token = bearer(await hs256Token({ key: 'k', aud: `${relay.url}/echo` }));
    assert.equal((await relay.post(OBSERVE, BODY, token)).json.data.judgements.count, 1);
    expectAuthError(await relay.post('/other/observe/observables', BODY, token), 'Wrong configuration-token-audience');
  });
  test('a provider claim that is not a module id is not echoed back', async () => {
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k', provider: '<b>x</b>' }))), HS256_MESSAGES.notBound('echo'));
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k', provider: ['echo'] }))), HS256_MESSAGES.notBound('echo'));
  });
  test('a multi-provider (enrichment) token is not a module token', async () => {
    const multi = bearer(await hs256Token({ echo: { key: 'k' }, other: { key: 'k' }, aud: `${relay.url}/enrich` }));
    expectAuthError(await relay.post(OBSERVE, BODY, multi), 'Wrong configuration-token-audience');
    expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ echo: { key: 'k' } }))), HS256_MESSAGES.notBound('echo'));
  });
  test("another module's key is never sent upstream", async () => {
    const otherToken = bearer(await hs256Token({ key: 'other-module-key', provider: 'other' }));
    const unbound = bearer(await hs256Token({ key: 'unbound-key' }));
    expectAuthError(await relay.post('/keyed/health', undefined, otherToken), HS256_MESSAGES.otherProvider('other', 'keyed'));
    expectAuthError(await relay.post('/keyed/health', undefined, unbound), HS256_MESSAGES.notBound('keyed'));
    expectAuthError(await relay.post('/keyed/observe/observables', BODY, unbound), HS256_MESSAGES.notBound('keyed'));
    assert.equal(fake.requests.length, 0);
    assert.deepEqual((await relay.post('/keyed/health', undefined, bearer(await hs256Token({ key: 'keyed-key', provider: 'keyed' })))).json, { data: { status: 'ok' } });
    assert.equal(fake.requests.length, 1);
    assert.match(fake.requests[0]!.url, /key=keyed-key/);
  });
});

describe('a single-module mount stays a drop-in for the original', () => {
  test('any valid token, with or without aud or provider claim; a claim naming another module is refused', async () => {
    const relay = await startRelay({ PROVIDERS: 'echo', SECRET_KEY: TEST_SECRET }, { providers: [echoProvider] });
    try {
      for (const path of [OBSERVE, '/observe/observables']) {
        assert.equal((await relay.post(path, BODY, bearer(await hs256Token({ key: 'k' })))).json.data.judgements.count, 1);
        assert.equal((await relay.post(path, BODY, bearer(await hs256Token({ key: 'k', provider: 'echo' })))).json.data.judgements.count, 1);
      }
      expectAuthError(await relay.post(OBSERVE, BODY, bearer(await hs256Token({ key: 'k', provider: 'otx' }))), HS256_MESSAGES.otherProvider('otx', 'echo'));
    } finally {
      await relay.close();
    }
  });
});
