import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryAfterSeconds, type UpstreamResponse } from './upstream.js';

const response = (status: number, headers: Record<string, string>): UpstreamResponse => ({ status, headers, body: '' });

test('Retry-After is read strictly: digits or an HTTP-date, nothing else', () => {
  const after = (value: string) => retryAfterSeconds(response(429, { 'retry-after': value }));
  assert.equal(after('7'), 7);
  assert.equal(after(' 120 '), 120);
  assert.equal(after('0'), 0);
  for (const bad of ['-1', '1.5', '1e9', '0x10', 'soon', '', '7 seconds', 'Infinity', '2026-12-01T10:00:00Z', '1 Dec 2026']) {
    assert.equal(after(bad), undefined, bad);
  }
  const inTen = new Date(Date.now() + 10_000);
  const imf = inTen.toUTCString();
  const seconds = after(imf);
  assert.ok(seconds !== undefined && seconds >= 9 && seconds <= 11, imf);
  assert.equal(after('Sun, 06 Nov 1994 08:49:37 GMT'), 0);
  assert.equal(after('Sunday, 06-Nov-94 08:49:37 GMT'), 0);
  assert.equal(after('Sun Nov  6 08:49:37 1994'), 0);
  // A day name that does not exist, or a zone other than GMT, is not an HTTP-date.
  assert.equal(after('Fun, 06 Nov 1994 08:49:37 GMT'), undefined);
  assert.equal(after('Sun, 06 Nov 1994 08:49:37 PST'), undefined);
});
