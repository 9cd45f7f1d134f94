import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivacyGuard } from '../core/privacy-guard.js';
import { extractObservables, refang } from './extract.js';

const guard = createPrivacyGuard({ PRIVATE_OBSERVABLES: 'withhold', INTERNAL_DOMAINS: ['localhost', 'local', 'internal', 'lan', 'home.arpa'] });
const values = (text: string) => extractObservables(text, guard).observables.map(({ type, value }) => `${type} ${value}`);

describe('refang', () => {
  const cases: [string, string][] = [
    ['hxxp://evil[.]example[.]com', 'http://evil.example.com'],
    ['hXXps://evil(.)example{.}com', 'https://evil.example.com'],
    ['hxxps[://]a.example.com/x', 'https://a.example.com/x'],
    ['http[:]//a.example.com', 'http://a.example.com'],
    ['h**p://a.example.com', 'http://a.example.com'],
    ['fxp://files.example.org', 'ftp://files.example.org'],
    ['alice[at]example[dot]com', 'alice@example.com'],
    ['alice [at] example [dot] com', 'alice@example.com'],
    ['bob[@]example(.)org', 'bob@example.org'],
    ['carol(at)example{dot}net', 'carol@example.net'],
    ['198.51.100[.]7', '198.51.100.7'],
    ['2001:db8[:]1', '2001:db8:1'],
    ['example\\.com', 'example.com'],
  ];
  for (const [defanged, fanged] of cases) test(defanged, () => assert.equal(refang(defanged), fanged));
});

describe('extractObservables', () => {
  test('every type, in order of first appearance, each once', () => {
    const text = `
      sha256 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 then 198.51.100.7,
      a.example.com; 2001:db8::1 and d41d8cd98f00b204e9800998ecf8427e / da39a3ee5e6b4b0d3255bfef95601890afd80709
      mail: user@example.org <https://c2.example.net/gate.php?id=1>. Again 198.51.100.7 and A.EXAMPLE.COM.`;
    assert.deepEqual(values(text), [
      'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'ip 198.51.100.7',
      'domain a.example.com',
      'ipv6 2001:db8::1',
      'md5 d41d8cd98f00b204e9800998ecf8427e',
      'sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709',
      'email user@example.org',
      'url https://c2.example.net/gate.php?id=1',
    ]);
  });

  test("an url's host is not listed again as a domain unless it also stands alone", () => {
    assert.deepEqual(values('see http://c2.example.net/a and http://other.example.org/b, then c2.example.net'), [
      'url http://c2.example.net/a',
      'url http://other.example.org/b',
      'domain c2.example.net',
    ]);
  });

  test('file names are not domains: only a real public suffix makes one', () => {
    assert.deepEqual(values('invoice.pdf setup.exe readme.txt report.docx archive.tar.gz evil.zip example.co.uk'), [
      'domain evil.zip',
      'domain example.co.uk',
    ]);
  });

  test('urls lose the punctuation around them, keep balanced brackets and IPv6 literals', () => {
    assert.deepEqual(values('(see https://en.example.org/wiki/Foo_(bar)). "http://q.example.com/a", http://[2001:db8::5]:8080/x!'), [
      'url https://en.example.org/wiki/Foo_(bar)',
      'url http://q.example.com/a',
      'url http://[2001:db8::5]:8080/x',
    ]);
  });

  test('scheme-less urls, ports, labels glued to values', () => {
    assert.deepEqual(values('evil.example.com/gate.php 198.51.100.8:443 src=198.51.100.9 host:c2.example.org'), [
      'url evil.example.com/gate.php',
      'ip 198.51.100.8',
      'ip 198.51.100.9',
      'domain c2.example.org',
    ]);
  });

  test('invalid values are not listed: bad addresses, hex of other lengths, words', () => {
    assert.deepEqual(values('999.1.1.1 1.2.3 abcdef0123 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855aa hello world'), []);
  });

  test('private and internal ones are withheld with the reason, not listed', () => {
    const inspection = extractObservables('10.0.0.5 http://nas.local/share fe80::1 ::ffff:192.168.0.1 it@corp.internal 192.0.2.1', guard);
    assert.deepEqual(inspection.observables, [{ type: 'ip', value: '192.0.2.1' }]);
    assert.deepEqual(inspection.withheld, [
      { type: 'ip', value: '10.0.0.5', reason: 'private address (RFC 1918)' },
      { type: 'url', value: 'http://nas.local/share', reason: 'internal domain (.local)' },
      { type: 'ipv6', value: 'fe80::1', reason: 'link-local address' },
      { type: 'ipv6', value: '::ffff:192.168.0.1', reason: 'IPv4-mapped private address (RFC 1918)' },
      { type: 'email', value: 'it@corp.internal', reason: 'internal domain (.internal)' },
    ]);
  });

  test('an empty or plain text has nothing', () => {
    assert.deepEqual(extractObservables('', guard), { observables: [], withheld: [] });
    assert.deepEqual(extractObservables('Nothing to see here.', guard), { observables: [], withheld: [] });
  });
});

describe('extractObservables on hostile input (texts reach BODY_LIMIT_BYTES)', () => {
  const size = 512 * 1024;
  const cases: [string, string][] = [
    ['a long run of spaces before a bracket', `${' '.repeat(size)}x[.]`],
    ['a long run of spaces not followed by one', `${' '.repeat(size)}x`],
    ['a long run of dots inside a word', `${'.'.repeat(size)}a`],
    ['an url ending in many brackets', `http://a.example.com/${')'.repeat(size)}`],
    ['an url with many opening brackets', `http://a.example.com/${'('.repeat(size)}`],
    ['one long word of hex', 'a'.repeat(size)],
    ['one long word of colons', `${':'.repeat(size)}1`],
    ['many short defanged tokens', 'a[.]b '.repeat(size / 6)],
  ];
  for (const [name, text] of cases) {
    test(name, { timeout: 20_000 }, () => {
      const inspection = extractObservables(text, guard);
      assert.ok(Array.isArray(inspection.observables));
    });
  }
});
