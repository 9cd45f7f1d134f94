// The console's front door over HTTP: the built page (content types, caching, compression, CSP on
// every answer, relative URLs) and the session (sealed cookie, its attributes, the console's
// required header, key checks per provider, expiry, sign-out), and that no key leaks anywhere.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, SettingsError } from '../src/core/settings.js';
import { CONSOLE_COOKIE, openSession, sealSession, sessionCookieHeader } from '../src/routes/console-session.js';
import { CONSOLE_CSP } from '../src/routes/console.js';
import { buildConsole } from '../scripts/build-console.mjs';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';
import { echoProvider } from './helpers/echo-provider.js';
import { keyedProvider } from './helpers/keyed-provider.js';
import { startRelay, type RunningRelay } from './helpers/relay.js';
import { TEST_SECRET } from './helpers/tokens.js';

const GOOD_KEY = 'good-keyed-key-3f9a1c';
/** The fake answers 503 for this key: the provider cannot say whether it is good. */
const FLAKY_KEY = 'flaky-keyed-key-88b2';
const HEADER = { 'x-requested-by': 'ctr-relay-console' };
const providers = [keyedProvider, echoProvider];

let consoleDir: string;
let upstream: FakeUpstream;

before(async () => {
  consoleDir = mkdtempSync(join(tmpdir(), 'ctr-console-build-'));
  await buildConsole({ outDir: consoleDir });
  upstream = await startFakeUpstream((request) => {
    const key = new URL(request.url, 'http://x').searchParams.get('key');
    if (key === FLAKY_KEY) return { status: 503, body: { error: 'down for maintenance' } };
    return key === GOOD_KEY ? { status: 200, body: {} } : { status: 401, body: { error: 'bad key' } };
  });
});

after(async () => {
  await upstream.close();
  rmSync(consoleDir, { recursive: true, force: true });
});

async function relayWith(env: Record<string, string> = {}, logLines?: string[]): Promise<RunningRelay> {
  return startRelay({ SECRET_KEY: TEST_SECRET, KEYED_URL: upstream.url, ...env }, { providers, consoleDir, ...(logLines === undefined ? {} : { logLines }) });
}

async function raw(relay: RunningRelay, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(relay.url + path, { redirect: 'manual', ...init });
}

function cookieFrom(response: Response): string {
  const header = response.headers.get('set-cookie') ?? '';
  const value = header.split(';')[0] ?? '';
  return value;
}

async function signIn(relay: RunningRelay, body: unknown = { keyed: { key: GOOD_KEY }, echo: { key: 'echo-key-77' } }, headers: Record<string, string> = {}) {
  return raw(relay, '/console/session', { method: 'POST', headers: { ...HEADER, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('the console page', () => {
  let relay: RunningRelay;
  before(async () => {
    relay = await relayWith();
  });
  after(() => relay.close());

  test('/console redirects relatively to console/, so a path prefix is kept', async () => {
    const response = await raw(relay, '/console');
    assert.equal(response.status, 308);
    assert.equal(response.headers.get('location'), 'console/');
    assert.equal(response.headers.get('content-security-policy'), CONSOLE_CSP);
  });

  test('/console/ is the page: HTML, revalidated, strict CSP, only relative same-origin assets, no inline script', async () => {
    const response = await raw(relay, '/console/');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0]![1]!, /src="\.\/assets\/app-[A-Z0-9]+\.js"/);
    assert.equal(scripts[0]![2]!.trim(), '', 'no inline script');
    assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i, 'no inline style or handler');
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.match(url!, /^\.\/(assets\/|favicon\.svg$)/, `${url} is relative`);
  });

  test('assets: right content types, cached for a year (hashed names), gzip when asked, 304 on a matching ETag', async () => {
    const html = await (await raw(relay, '/console/')).text();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)![1]!;
    const style = /href="\.\/(assets\/[^"]+\.css)"/.exec(html)![1]!;
    const js = await raw(relay, `/console/${script}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.ok(js.headers.get('content-security-policy'));
    // fetch decodes gzip itself; the header says it was sent compressed.
    assert.equal(js.headers.get('content-encoding'), 'gzip');
    assert.ok((await js.text()).length > 1000);
    const css = await raw(relay, `/console/${style}`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    const etag = css.headers.get('etag')!;
    const again = await raw(relay, `/console/${style}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.ok(again.headers.get('content-security-policy'));
  });

  test('an unknown file under /console/ is a 404 in the contract shape, with the CSP', async () => {
    const response = await raw(relay, '/console/assets/nothing.js');
    assert.equal(response.status, 404);
    assert.ok(response.headers.get('content-security-policy'));
    const body = (await response.json()) as any;
    assert.equal(body.errors[0].code, 'not found');
  });

  test('a relay whose console is not built says how to build it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ctr-console-empty-'));
    const bare = await startRelay({ SECRET_KEY: TEST_SECRET }, { providers, consoleDir: empty });
    try {
      const response = await raw(bare, '/console/');
      assert.equal(response.status, 404);
      assert.match(((await response.json()) as any).errors[0].message, /npm run build/);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the console session', () => {
  let relay: RunningRelay;
  const logLines: string[] = [];
  before(async () => {
    relay = await relayWith({ LOG_LEVEL: 'trace' }, logLines);
  });
  after(() => relay.close());

  test('not signed in: the state says so; the request needs the console header', async () => {
    const state = (await (await raw(relay, '/console/session', { headers: HEADER })).json()) as any;
    assert.deepEqual(state.data, { signed_in: false, can_sign_in: true, expired: false, providers: [] });
    const refused = (await (await raw(relay, '/console/session')).json()) as any;
    assert.equal(refused.errors[0].code, 'authorization error');
    assert.match(refused.errors[0].message, /X-Requested-By: ctr-relay-console/);
  });

  test('signing in checks every key, then sets an HttpOnly, SameSite=Strict cookie for 12 h (plus the expiry notice hour)', async () => {
    const response = await signIn(relay);
    const body = (await response.json()) as any;
    assert.equal(body.data.signed_in, true);
    assert.deepEqual(
      body.data.providers.map((check: any) => [check.id, check.status]),
      [
        ['keyed', 'ok'],
        ['echo', 'ok'],
      ],
    );
    const header = response.headers.get('set-cookie') ?? '';
    assert.match(header, new RegExp(`^${CONSOLE_COOKIE}=[^;]+`));
    assert.match(header, /; HttpOnly/);
    assert.match(header, /; SameSite=Strict/);
    assert.match(header, /; Path=\//);
    assert.match(header, /; Max-Age=(4679\d|46800);/);
    assert.doesNotMatch(header, /Secure/, 'plain http: no Secure flag');
    assert.ok(!header.includes(GOOD_KEY) && !JSON.stringify(body).includes(GOOD_KEY), 'no key in the cookie or answer');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const hours = (new Date(body.data.expires_at).getTime() - Date.now()) / 3_600_000;
    assert.ok(hours > 11.9 && hours <= 12, `expires in ${hours} h`);
    // The upstream health check was made with the key (that is how a bad one is found).
    assert.ok(upstream.requests.some((request) => request.url.includes(GOOD_KEY)));
  });

  test('the session state names the providers with keys and the expiry, never the keys', async () => {
    const cookie = cookieFrom(await signIn(relay));
    const response = await raw(relay, '/console/session', { headers: { ...HEADER, cookie } });
    const text = await response.text();
    const state = JSON.parse(text);
    assert.equal(state.data.signed_in, true);
    assert.deepEqual(state.data.providers, ['keyed', 'echo']);
    assert.ok(!text.includes(GOOD_KEY) && !text.includes('echo-key-77'));
  });

  test('a request with the cookie but without the console header is refused', async () => {
    const cookie = cookieFrom(await signIn(relay));
    for (const method of ['GET', 'DELETE', 'POST']) {
      const response = await raw(relay, '/console/session', { method, headers: { cookie, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
      const body = (await response.json()) as any;
      assert.equal(body.errors?.[0]?.code, 'authorization error', method);
      assert.equal(response.headers.get('set-cookie'), null, method);
    }
  });

  test('a rejected key: no cookie, and the answer says which provider refused it', async () => {
    const response = await signIn(relay, { keyed: { key: 'wrong-key-123' }, echo: { key: 'echo-key-77' } });
    const body = (await response.json()) as any;
    assert.equal(response.headers.get('set-cookie'), null);
    assert.equal(body.errors[0].code, 'authorization error');
    assert.match(body.errors[0].message, /Keyed refused the key/);
    const keyed = body.data.providers.find((check: any) => check.id === 'keyed');
    assert.equal(keyed.status, 'rejected');
    assert.equal(keyed.error.code, 'authorization error');
    assert.equal(body.data.providers.find((check: any) => check.id === 'echo').status, 'ok');
  });

  test('a provider that cannot be asked: the key is kept, reported as not checked', async () => {
    const response = await signIn(relay, { keyed: { key: FLAKY_KEY } });
    const body = (await response.json()) as any;
    assert.equal(body.data.signed_in, true);
    assert.match(response.headers.get('set-cookie') ?? '', /HttpOnly/);
    const [check] = body.data.providers;
    assert.equal(check.status, 'unverified');
    assert.equal(check.error.code, 'service unavailable');
  });

  test('incomplete or unknown keys are an invalid argument naming what is wrong', async () => {
    const unknown = (await (await signIn(relay, { nope: { key: 'x' } })).json()) as any;
    assert.equal(unknown.errors[0].code, 'invalid argument');
    assert.match(unknown.errors[0].message, /"nope" is not a mounted provider that takes keys; these do: keyed, echo/);
    const empty = (await (await signIn(relay, { keyed: { key: '' } })).json()) as any;
    assert.match(empty.errors[0].message, /The keys for Keyed are incomplete/);
    const none = (await (await signIn(relay, {})).json()) as any;
    assert.match(none.errors[0].message, /at least one provider/);
  });

  test('an expired session is reported as expired, and its cookie cleared', async () => {
    const settings = { SECRET_KEY: TEST_SECRET, CONSOLE_SESSION_HOURS: 1 };
    const sealed = await sealSession({ keyed: { key: GOOD_KEY } }, settings, new Date(Date.now() - 2 * 3_600_000));
    const response = await raw(relay, '/console/session', { headers: { ...HEADER, cookie: `${CONSOLE_COOKIE}=${sealed.cookie}` } });
    const state = (await response.json()) as any;
    assert.equal(state.data.signed_in, false);
    assert.equal(state.data.expired, true);
    assert.match(response.headers.get('set-cookie') ?? '', /Max-Age=0/);
  });

  test('a cookie sealed with another SECRET_KEY, or tampered with, does not open', async () => {
    const other = await sealSession({ keyed: { key: GOOD_KEY } }, { SECRET_KEY: 'another-secret-0123456789', CONSOLE_SESSION_HOURS: 1 });
    assert.equal((await openSession(other.cookie, { SECRET_KEY: TEST_SECRET })).state, 'unreadable');
    const mine = await sealSession({ keyed: { key: GOOD_KEY } }, { SECRET_KEY: TEST_SECRET, CONSOLE_SESSION_HOURS: 1 });
    const tampered = mine.cookie.slice(0, -3) + (mine.cookie.endsWith('AAA') ? 'BBB' : 'AAA');
    assert.equal((await openSession(tampered, { SECRET_KEY: TEST_SECRET })).state, 'unreadable');
    assert.equal((await openSession(mine.cookie, { SECRET_KEY: TEST_SECRET })).state, 'open');
  });

  test('signing out clears the cookie', async () => {
    const cookie = cookieFrom(await signIn(relay));
    const response = await raw(relay, '/console/session', { method: 'DELETE', headers: { ...HEADER, cookie } });
    assert.deepEqual(((await response.json()) as any).data, { signed_in: false });
    assert.match(response.headers.get('set-cookie') ?? '', new RegExp(`^${CONSOLE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`));
  });

  test('no key in any log line', () => {
    assert.ok(logLines.length > 0);
    const leaked = logLines.filter((line) => [GOOD_KEY, FLAKY_KEY, 'echo-key-77', 'wrong-key-123'].some((key) => line.includes(key)));
    assert.deepEqual(leaked, []);
  });
});

describe('the session behind a proxy and without SECRET_KEY', () => {
  test('over https (X-Forwarded-Proto with TRUST_PROXY) the cookie is Secure; PUBLIC_URL scopes its path', async () => {
    const relay = await relayWith({ TRUST_PROXY: 'true', PUBLIC_URL: 'https://relay.example.com/intel' });
    try {
      const response = await signIn(relay, { keyed: { key: GOOD_KEY } }, { 'x-forwarded-proto': 'https' });
      const header = response.headers.get('set-cookie') ?? '';
      assert.match(header, /; Secure/);
      assert.match(header, /; Path=\/intel\//);
    } finally {
      await relay.close();
    }
  });

  test('CONSOLE_SESSION_HOURS sets the session length; a bad value names the variable', async () => {
    const relay = await relayWith({ CONSOLE_SESSION_HOURS: '2' });
    try {
      const body = (await (await signIn(relay, { keyed: { key: GOOD_KEY } })).json()) as any;
      const hours = (new Date(body.data.expires_at).getTime() - Date.now()) / 3_600_000;
      assert.ok(hours > 1.9 && hours <= 2);
    } finally {
      await relay.close();
    }
    assert.throws(() => loadSettings({ CONSOLE_SESSION_HOURS: '0' }, providers), (error: unknown) => error instanceof SettingsError && /CONSOLE_SESSION_HOURS accepts a whole number from 1 to 720/.test(error.message));
  });

  test('without SECRET_KEY the console says it cannot sign in and why', async () => {
    const relay = await startRelay({ KEYED_URL: upstream.url }, { providers, consoleDir });
    try {
      const state = (await (await raw(relay, '/console/session', { headers: HEADER })).json()) as any;
      assert.equal(state.data.can_sign_in, false);
      assert.match(state.data.reason, /no SECRET_KEY/);
      const refused = (await (await signIn(relay, { keyed: { key: GOOD_KEY } })).json()) as any;
      assert.equal(refused.errors[0].code, 'authorization error');
      assert.match(refused.errors[0].message, /SECRET_KEY/);
    } finally {
      await relay.close();
    }
  });

  test('the cookie header helper never marks http cookies Secure', () => {
    assert.equal(sessionCookieHeader('v', 10, { secure: false, path: '/' }), `${CONSOLE_COOKIE}=v; Path=/; Max-Age=10; HttpOnly; SameSite=Strict`);
  });
});
