import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidObservable, type ObservableType } from './validators.js';

const valid: [ObservableType, string][] = [
  ['ip', '1.2.3.4'],
  ['ip', '255.255.255.255'],
  ['ipv6', '2001:db8::1'],
  ['ipv6', '::1'],
  ['domain', 'example.com'],
  ['domain', 'sub.EXAMPLE.co.uk'],
  ['domain', 'xn--e1afmkfd.xn--p1ai'],
  ['domain', 'пример.рф'],
  ['domain', 'under_score.example.org'],
  ['url', 'http://example.com/path?q=1#frag'],
  ['url', 'https://1.2.3.4:8443/a'],
  ['url', 'example.com/gate.php'],
  ['url', 'http://c2.example.net&x=1'],
  ['url', 'http://[2001:db8::1]/x'],
  ['url', 'ftp://files.example.org/a.exe'],
  ['url', 'http://пример.рф/путь/😀'],
  ['email', 'user.name+tag@example.com'],
  ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
  ['sha1', 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709'],
  ['sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
];

const invalid: [ObservableType, string][] = [
  ['ip', '999.1.1.1'],
  ['ip', '1.2.3'],
  ['ip', '1.2.3.4/../x'],
  ['ip', ' 1.2.3.4'],
  ['ip', '2001:db8::1'],
  ['ipv6', '1.2.3.4'],
  ['ipv6', 'gggg::1'],
  ['domain', 'localhost'],
  ['domain', '-bad.example.com'],
  ['domain', 'example..com'],
  ['domain', 'a/b.example.com'],
  ['domain', 'example.com/../x'],
  ['domain', 'exa mple.com'],
  ['domain', `${'a'.repeat(64)}.com`],
  ['domain', '1.2.3.4'],
  ['url', 'http://'],
  ['url', 'http://exa mple.com'],
  ['url', 'not a url'],
  ['url', 'http://a\nb.com'],
  ['url', 'http://x.example.com/\ud800'],
  ['url', 'http://x.example.com/\udfff?a=1'],
  ['domain', 'ex\ud800ample.com'],
  ['email', 'user\udc00@example.com'],
  ['ipv6', 'fe80::1%eth0'],
  ['ipv6', 'fe80::1%25eth0'],
  ['url', 'http://[fe80::1%25eth0]/x'],
  ['url', 'javascript://example.com/x'],
  ['url', 'data://example.com/x'],
  ['url', 'http://localhost/x'],
  ['url', 'http://intranet/x'],
  ['email', 'no-at-sign'],
  ['email', '@example.com'],
  ['email', 'user@localhost'],
  ['md5', 'd41d8cd98f00b204e9800998ecf8427'],
  ['md5', 'z41d8cd98f00b204e9800998ecf8427e'],
  ['sha1', 'd41d8cd98f00b204e9800998ecf8427e'],
  ['sha256', '../../etc/passwd'],
];

for (const [type, value] of valid) {
  test(`${type} ${JSON.stringify(value)} is valid`, () => assert.equal(isValidObservable(type, value), true));
}
for (const [type, value] of invalid) {
  test(`${type} ${JSON.stringify(value)} is invalid`, () => assert.equal(isValidObservable(type, value), false));
}
