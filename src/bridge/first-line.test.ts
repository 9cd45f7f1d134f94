import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_FIRST_LINE_BYTES, firstRequestKind } from './first-line.js';

const kind = (text: string) => firstRequestKind(Buffer.from(text, 'latin1'));

test('a liveness probe is known by its request line alone', () => {
  for (const line of ['GET /healthz HTTP/1.1\r\n', 'HEAD /healthz HTTP/1.1\r\n', 'GET /healthz/ HTTP/1.0\r\n', 'GET /healthz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n']) {
    assert.equal(kind(line), 'probe', line);
  }
});

test('everything else goes to the relay, as soon as the first bytes say so', () => {
  for (const line of ['POST /healthz HTTP/1.1\r\n', 'GET /readyz HTTP/1.1\r\n', 'GET /healthzz HTTP/1.1\r\n', 'GET /healthz/x HTTP/1.1\r\n', 'GET http://a/healthz HTTP/1.1\r\n', 'GET /healthz HTTP/2.0\r\n', 'PO', '\x16\x03\x01', '\r\nGET /healthz HTTP/1.1\r\n']) {
    assert.equal(kind(line), 'relay', JSON.stringify(line));
  }
});

test('a line that could still be a probe waits for more, up to a bound', () => {
  assert.equal(kind(''), 'more');
  assert.equal(kind('G'), 'more');
  assert.equal(kind('GET /heal'), 'more');
  assert.equal(kind('GET /healthz?'), 'more');
  assert.equal(kind(`GET /healthz?${'a'.repeat(MAX_FIRST_LINE_BYTES)}`), 'relay');
});
