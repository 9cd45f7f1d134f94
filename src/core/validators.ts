// Which values can be a valid instance of each observable type. A value failing here is
// dropped before any provider sees it, so it can never be sent upstream.
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

export const OBSERVABLE_TYPES = ['ip', 'ipv6', 'domain', 'url', 'email', 'md5', 'sha1', 'sha256'] as const;
export type ObservableType = (typeof OBSERVABLE_TYPES)[number];

const HEX = { md5: /^[0-9a-f]{32}$/i, sha1: /^[0-9a-f]{40}$/i, sha256: /^[0-9a-f]{64}$/i };
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const TOP_LABEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
// Control characters, whitespace and the characters no URL may carry raw.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const URL_FORBIDDEN = /[\u0000-\u0020\u007f-\u009f<>"{}|\\^`\u2028\u2029]/;
const MAX_URL_LENGTH = 4096;
// A UTF-16 surrogate not in a pair: no character at all, and encodeURIComponent throws on it.
const LONE_SURROGATE = /\p{Cs}/u;
// The schemes a provider's url lookup knows; `javascript://`, `data://` and such are no indicator
// any of them keeps.
const URL_SCHEMES = new Set(['http:', 'https:', 'ftp:', 'ftps:', 'sftp:', 'ws:', 'wss:']);

/** Well-formed Unicode: no lone surrogate (String.prototype.isWellFormed, which Node 20.9 lacks in its types). */
export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** IPv6 without a zone id (`fe80::1%eth0` names an interface of the sender's own machine). */
export function isGlobalIPv6(value: string): boolean {
  return !value.includes('%') && isIPv6(value);
}

export function isDomain(value: string): boolean {
  if (value.length === 0 || value.length > 253 || URL_FORBIDDEN.test(value)) return false;
  const bare = value.endsWith('.') ? value.slice(0, -1) : value;
  // Letters (any script), digits, dots, hyphens, underscores; nothing a URL would read as structure.
  if (!/^[\p{L}\p{M}\p{N}._-]+$/u.test(bare)) return false;
  const ascii = domainToASCII(bare);
  if (ascii === '' || ascii.length > 253) return false;
  const labels = ascii.toLowerCase().split('.');
  if (labels.length < 2) return false;
  const top = labels[labels.length - 1] ?? '';
  return labels.every((label) => LABEL.test(label)) && TOP_LABEL.test(top);
}

export function isUrl(value: string): boolean {
  if (value.length === 0 || value.length > MAX_URL_LENGTH || URL_FORBIDDEN.test(value)) return false;
  // Threat Response sends urls with and without a scheme; without one, http is implied.
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let parsed: URL;
  try {
    parsed = new URL(candidate);
  } catch {
    return false;
  }
  if (!URL_SCHEMES.has(parsed.protocol)) return false;
  // The URL parser already refuses hosts with forbidden characters; odd but parseable hosts
  // (`c2.example.net&x=1`) are real indicators and are looked up, encoded. A host must be one a
  // provider can know: an IPv4 address, an IPv6 one without a zone, or a name with a dot in it
  // (not `localhost` or a bare intranet name).
  const host = parsed.hostname;
  if (host.startsWith('[')) return !host.includes('%');
  return host.includes('.') && !host.startsWith('.') && !host.includes('..');
}

export function isEmail(value: string): boolean {
  if (value.length > 320 || URL_FORBIDDEN.test(value)) return false;
  const at = value.lastIndexOf('@');
  if (at < 1) return false;
  const local = value.slice(0, at);
  return local.length <= 64 && !local.includes('@') && isDomain(value.slice(at + 1));
}

const VALIDATORS: Record<ObservableType, (value: string) => boolean> = {
  ip: (value) => isIPv4(value),
  ipv6: isGlobalIPv6,
  domain: isDomain,
  url: isUrl,
  email: isEmail,
  md5: (value) => HEX.md5.test(value),
  sha1: (value) => HEX.sha1.test(value),
  sha256: (value) => HEX.sha256.test(value),
};

export function isObservableType(type: string): type is ObservableType {
  return (OBSERVABLE_TYPES as readonly string[]).includes(type);
}

export function isValidObservable(type: ObservableType, value: string): boolean {
  return isWellFormed(value) && VALIDATORS[type](value);
}
