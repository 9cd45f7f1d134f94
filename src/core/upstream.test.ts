import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayError } from './errors.js';
import fc from 'fast-check';
import { UpstreamClient, formEncode, statusError, upstreamUrl } from './upstream.js';
import { startFakeUpstream, type FakeUpstream } from '../../test/helpers/fake-upstream.js';

function client(overrides: Partial<ConstructorParameters<typeof UpstreamClient>[0]> = {}): UpstreamClient {
  return new UpstreamClient({ providerName: 'Fake', timeoutMs: 2000, maxBodyBytes: 1024, concurrency: 4, ...overrides });
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RelayError, String(error));
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

test('upstreamUrl encodes every value for its place and keeps the base path', () => {
  assert.deepEqual(upstreamUrl('https://api.example.com/v1/', ['url', 'http://a.example/x?y=1#z']), {
    origin: 'https://api.example.com',
    path: '/v1/url/http%3A%2F%2Fa.example%2Fx%3Fy%3D1%23z',
  });
  assert.equal(upstreamUrl('https://api.example.com', ['ipr', '..']).path, '/ipr/%2E%2E');
  assert.equal(upstreamUrl('https://api.example.com/api', ['info.php'], { indicator: 'a&key=b', key: 'k' }).path, '/api/info.php?indicator=a%26key%3Db&key=k');
});

test('query values are encoded exactly as URLSearchParams encodes them', () => {
  const reference = (text: string) => new URLSearchParams([['', text]]).toString().slice(1);
  for (const text of ['a b', "!'()~*-._", 'é/?#&=+%', '\uD800x', '']) assert.equal(formEncode(text), reference(text), JSON.stringify(text));
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => formEncode(text) === reference(text)),
    { numRuns: 2000 },
  );
});

test('statusError maps statuses to the contract codes, with provider overrides', () => {
  const response = (status: number, headers: Record<string, string> = {}) => ({ status, headers, body: '' });
  assert.equal(statusError(response(401), 'P').code, 'authorization error');
  assert.equal(statusError(response(401), 'P').message, 'Authorization failed: Authorization failed on P side');
  assert.equal(statusError(response(403), 'P').code, 'permission denied');
  assert.equal(statusError(response(403), 'P', { 403: 'authorization error' }).code, 'authorization error');
  assert.equal(statusError(response(400), 'P').code, 'invalid argument');
  assert.equal(statusError(response(404), 'P').code, 'not found');
  assert.equal(statusError(response(502), 'P').code, 'service unavailable');
  const limited = statusError(response(429, { 'retry-after': '7' }), 'P');
  assert.equal(limited.code, 'too many requests');
  assert.equal(limited.retryAfterSeconds, 7);
  assert.equal(statusError(response(302), 'P').code, 'unknown');
});

describe('UpstreamClient against a fake', () => {
  let fake: FakeUpstream;
  before(async () => {
    fake = await startFakeUpstream();
  });
  after(() => fake.close());

  test('sends the path as is, never normalised', async () => {
    fake.setHandler(() => ({ body: { ok: true } }));
    const http = client();
    const answer = await http.request({ call: 't', url: upstreamUrl(fake.url, ['a', '..', 'b%2F']) });
    assert.equal(answer.status, 200);
    assert.equal(fake.requests.at(-1)?.url, '/a/%2E%2E/b%252F');
    await http.close();
  });

  test('an answer larger than the limit is refused, not read whole', async () => {
    fake.setHandler(() => ({ body: 'x'.repeat(10_000) }));
    const http = client();
    await rejectsWith(http.request({ call: 't', url: upstreamUrl(fake.url) }), 'unknown', /larger than 1024 bytes/);
    await http.close();
  });

  test('redirects are not followed', async () => {
    fake.setHandler(() => ({ status: 302, headers: { location: 'http://169.254.169.254/' }, body: '' }));
    const http = client();
    const answer = await http.request({ call: 't', url: upstreamUrl(fake.url) });
    assert.equal(answer.status, 302);
    assert.equal(fake.requests.length > 0, true);
    await http.close();
  });

  test('a call slower than the time limit is service unavailable', async () => {
    fake.setHandler(() => ({ body: {}, delayMs: 1000 }));
    const http = client({ timeoutMs: 100 });
    await rejectsWith(http.request({ call: 't', url: upstreamUrl(fake.url) }), 'service unavailable');
    await http.close();
  });

  test('a refused connection is service unavailable', async () => {
    const http = client();
    await rejectsWith(http.request({ call: 't', url: upstreamUrl('http://127.0.0.1:9/') }), 'service unavailable');
    await http.close();
  });
});

describe('TLS', () => {
  let dir: string;
  let url: string;
  let close: () => void;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_request, response) => response.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () => server.close();
  });
  after(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a certificate that cannot be verified is an ssl error with its reason', async () => {
    const http = client();
    await rejectsWith(http.request({ call: 't', url: upstreamUrl(url) }), 'ssl error', /^Unable to verify SSL certificate: [A-Z]/);
    await http.close();
  });
});
