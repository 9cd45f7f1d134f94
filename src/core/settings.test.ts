import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SettingsError, loadSettings, parseEntitiesLimit } from './settings.js';
import { PROVIDERS } from '../providers/registry.js';

test('defaults match the contract', () => {
  const settings = loadSettings({}, PROVIDERS);
  assert.equal(settings.PORT, 9090);
  assert.equal(settings.HOST, '0.0.0.0');
  assert.equal(settings.CTR_ENTITIES_LIMIT, 100);
  assert.equal(settings.UPSTREAM_TIMEOUT_MS, 10_000);
  assert.equal(settings.LOG_LEVEL, 'info');
  assert.equal(settings.TRUST_PROXY, false);
  assert.deepEqual(settings.JWKS_HOSTS, ['visibility.amp.cisco.com', 'visibility.eu.amp.cisco.com', 'visibility.apjc.amp.cisco.com']);
  assert.deepEqual(settings.PROVIDERS, PROVIDERS.map((provider) => provider.id));
});

test('a bad value names the variable and what it accepts', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /PORT accepts a whole number from 0 to 65535 \(got "eighty"\)/],
    [{ UPSTREAM_TIMEOUT_MS: '-5' }, /UPSTREAM_TIMEOUT_MS accepts a whole number/],
    [{ TRUST_PROXY: 'maybe' }, /TRUST_PROXY accepts true\/false/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL accepts one of fatal, error/],
    [{ PROVIDERS: 'nope' }, /PROVIDERS accepts a comma list of .*unknown: nope/],
    [{ JWKS_URL: 'ftp://x' }, /JWKS_URL accepts an absolute http/],
    [{ CYBERCRIME_TRACKER_URL: 'not a url' }, /CYBERCRIME_TRACKER_URL accepts an absolute http/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadSettings(env, PROVIDERS), (error: unknown) => error instanceof SettingsError && message.test(error.message));
  }
});

test('secret values are never echoed in a settings error', () => {
  assert.throws(
    () => loadSettings({ SECRET_KEY: 'hunter2', PORT: 'x', XFORCE_KEY: 'abc' }, PROVIDERS),
    (error: unknown) => error instanceof Error && !error.message.includes('hunter2'),
  );
});

test('empty values count as unset', () => {
  assert.equal(loadSettings({ PORT: '', PROVIDERS: ' ' }, PROVIDERS).PORT, 9090);
});

test('the entities limit takes a positive integer up to 1000, anything else is the default', () => {
  assert.equal(parseEntitiesLimit('5'), 5);
  assert.equal(parseEntitiesLimit(7), 7);
  assert.equal(parseEntitiesLimit('1000'), 1000);
  for (const bad of ['0', '-1', '1001', 'abc', '2.5', 2.5, null, undefined, {}]) assert.equal(parseEntitiesLimit(bad), 100);
  assert.equal(loadSettings({ CTR_ENTITIES_LIMIT: 'lots' }, PROVIDERS).CTR_ENTITIES_LIMIT, 100);
  assert.equal(loadSettings({ CTR_ENTITIES_LIMIT: '20' }, PROVIDERS).CTR_ENTITIES_LIMIT, 20);
});

test('SECRET_KEY must be at least 32 bytes, and not an example placeholder; the message says how to make one, never the value', () => {
  for (const value of ['x', 'short-secret-key', 'a'.repeat(31), 'replace-with-64-hex-characters-from-ctr-relay-jwt-or-openssl-rand']) {
    assert.throws(
      () => loadSettings({ SECRET_KEY: value }, PROVIDERS),
      (error: unknown) =>
        error instanceof SettingsError &&
        /SECRET_KEY (must be at least 32 bytes|is a placeholder)/.test(error.message) &&
        /openssl rand -hex 32/.test(error.message) &&
        /ctr-relay jwt/.test(error.message) &&
        (value.length < 8 || !error.message.includes(value)),
    );
  }
  assert.equal(loadSettings({ SECRET_KEY: 'a'.repeat(32) }, PROVIDERS).SECRET_KEY, 'a'.repeat(32));
  // Bytes, not characters: 11 three-byte characters are 33 bytes.
  assert.equal(loadSettings({ SECRET_KEY: '€'.repeat(11) }, PROVIDERS).SECRET_KEY, '€'.repeat(11));
  assert.equal(loadSettings({}, PROVIDERS).SECRET_KEY, undefined);
});
