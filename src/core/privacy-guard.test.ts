import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObservableType } from './validators.js';
import { createPrivacyGuard, privateAddressReason } from './privacy-guard.js';

const DEFAULT_DOMAINS = ['localhost', 'local', 'internal', 'lan', 'home.arpa'];
const guard = createPrivacyGuard({ PRIVATE_OBSERVABLES: 'withhold', INTERNAL_DOMAINS: [...DEFAULT_DOMAINS, '.Corp.Example.com'] });

const withheld: [ObservableType, string, string][] = [
  ['ip', '10.0.0.1', 'private address (RFC 1918)'],
  ['ip', '172.16.5.4', 'private address (RFC 1918)'],
  ['ip', '172.31.255.255', 'private address (RFC 1918)'],
  ['ip', '192.168.1.1', 'private address (RFC 1918)'],
  ['ip', '100.64.0.1', 'shared address space (RFC 6598)'],
  ['ip', '100.127.255.254', 'shared address space (RFC 6598)'],
  ['ip', '127.0.0.1', 'loopback address'],
  ['ip', '127.255.0.9', 'loopback address'],
  ['ip', '169.254.169.254', 'link-local address'],
  ['ip', '0.0.0.0', 'unspecified address'],
  ['ip', '255.255.255.255', 'broadcast address'],
  ['ip', '224.0.0.251', 'multicast address'],
  ['ip', '239.255.255.250', 'multicast address'],
  ['ipv6', '::1', 'loopback address'],
  ['ipv6', '::', 'unspecified address'],
  ['ipv6', 'fe80::1', 'link-local address'],
  ['ipv6', 'fe80::1%eth0', 'link-local address'],
  ['ipv6', 'ff02::1', 'multicast address'],
  ['ipv6', 'fc00::1', 'unique local address (fc00::/7)'],
  ['ipv6', 'fdab:cdef::1', 'unique local address (fc00::/7)'],
  ['ipv6', '::ffff:10.0.0.1', 'IPv4-mapped private address (RFC 1918)'],
  ['ipv6', '::ffff:127.0.0.1', 'IPv4-mapped loopback address'],
  ['ipv6', '::ffff:a9fe:a9fe', 'IPv4-mapped link-local address'],
  ['domain', 'printer.local', 'internal domain (.local)'],
  ['domain', 'PRINTER.LOCAL.', 'internal domain (.local)'],
  ['domain', 'app.localhost', 'internal domain (.localhost)'],
  ['domain', 'nas.home.arpa', 'internal domain (.home.arpa)'],
  ['domain', 'corp.example.com', 'internal domain (.corp.example.com)'],
  ['domain', 'wiki.corp.example.com', 'internal domain (.corp.example.com)'],
  ['url', 'http://intranet.lan/x', 'internal domain (.lan)'],
  ['url', 'intranet.internal/login', 'internal domain (.internal)'],
  ['url', 'https://10.1.1.1:8443/admin', 'private address (RFC 1918)'],
  ['url', 'http://[fd00::2]/', 'unique local address (fc00::/7)'],
  ['url', 'http://[::ffff:192.168.0.1]/', 'IPv4-mapped private address (RFC 1918)'],
  ['email', 'it@mail.internal', 'internal domain (.internal)'],
  ['email', 'it@Wiki.Corp.Example.com', 'internal domain (.corp.example.com)'],
];

const lookedUp: [ObservableType, string][] = [
  // Documentation ranges are not private.
  ['ip', '192.0.2.1'],
  ['ip', '198.51.100.7'],
  ['ip', '203.0.113.255'],
  ['ipv6', '2001:db8::1'],
  ['ip', '8.8.8.8'],
  ['ip', '172.32.0.1'],
  ['ip', '100.128.0.1'],
  ['ipv6', '::ffff:8.8.8.8'],
  ['ipv6', '2606:4700::1111'],
  ['domain', 'example.com'],
  ['domain', 'notlocal.com'],
  ['domain', 'local.example.com'],
  ['domain', 'example.com.evil-internal.net'],
  ['domain', 'xcorp.example.com'],
  ['url', 'http://example.com/local'],
  ['url', 'http://192.0.2.1/x'],
  ['email', 'user@example.com'],
  ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
];

for (const [type, value, reason] of withheld) {
  test(`withheld: ${type} ${value}`, () => assert.equal(guard.reasonToWithhold({ type, value }), reason));
}
for (const [type, value] of lookedUp) {
  test(`looked up: ${type} ${value}`, () => assert.equal(guard.reasonToWithhold({ type, value }), undefined));
}

test('partition keeps the order of both lists', () => {
  const { kept, withheld: held } = guard.partition([
    { type: 'ip', value: '10.0.0.1' },
    { type: 'ip', value: '192.0.2.1' },
    { type: 'domain', value: 'a.local' },
    { type: 'domain', value: 'example.com' },
  ]);
  assert.deepEqual(kept, [
    { type: 'ip', value: '192.0.2.1' },
    { type: 'domain', value: 'example.com' },
  ]);
  assert.deepEqual(held, [
    { type: 'ip', value: '10.0.0.1', reason: 'private address (RFC 1918)' },
    { type: 'domain', value: 'a.local', reason: 'internal domain (.local)' },
  ]);
});

test('PRIVATE_OBSERVABLES=send turns the guard off', () => {
  const off = createPrivacyGuard({ PRIVATE_OBSERVABLES: 'send', INTERNAL_DOMAINS: DEFAULT_DOMAINS });
  assert.equal(off.enabled, false);
  assert.equal(off.reasonToWithhold({ type: 'ip', value: '10.0.0.1' }), undefined);
  assert.deepEqual(off.partition([{ type: 'domain', value: 'a.local' }]).withheld, []);
});

test('privateAddressReason ignores what is not an address', () => {
  assert.equal(privateAddressReason('example.com'), undefined);
  assert.equal(privateAddressReason('10.0.0.999'), undefined);
});
