// The observable type of a bare value, for `lookup` without --type.
import { isIPv4, isIPv6 } from 'node:net';
import { isEmail, type ObservableType } from '../core/validators.js';

const HASH_TYPES: Record<number, ObservableType> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/** ip, ipv6, url (a scheme, or a host followed by a path), email, md5/sha1/sha256 by length, else domain. */
export function guessObservableType(value: string): ObservableType {
  const text = value.trim();
  if (isIPv4(text)) return 'ip';
  if (isIPv6(text)) return 'ipv6';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return 'url';
  if (isEmail(text)) return 'email';
  const hash = /^[0-9a-f]+$/i.test(text) ? HASH_TYPES[text.length] : undefined;
  if (hash !== undefined) return hash;
  if (/^[^/?#\s]+[/?#]/.test(text)) return 'url';
  return 'domain';
}
