// Observables from any text (an e-mail, a log line, a report with defanged indicators): refanged,
// validated by the relay's own validators, de-duplicated, in order of first appearance, and split
// by the privacy guard into those that may be looked up and those withheld (with the reason).
//
// How: refang the text; find the urls (scheme://…) and mask them, so their hosts are not listed
// again as domains; cut the rest into words at spaces, quotes and brackets; classify each word
// (ip, ipv6, email, hash, domain, or a scheme-less url such as `evil.example/gate.php`). A domain
// counts only when its last labels are a real public suffix (tldts, the Public Suffix List), so
// `invoice.pdf` and `setup.exe` are file names, or when it is an internal domain (to say so in
// `withheld`). docs/enrich.md says why this is not ioc-extractor.
import { isIPv4, isIPv6 } from 'node:net';
import { parse as parseDomain } from 'tldts';
import type { Observable } from '../core/observables.js';
import type { PrivacyGuard, WithheldObservable } from '../core/privacy-guard.js';
import { isValidObservable, type ObservableType } from '../core/validators.js';
import type { Inspection } from './types.js';

// Defanged forms, all case-insensitive. Brackets may be [], () or {}; spaces inside and around the
// bracket are dropped (`alice [at] example [dot] com`).
// Every quantifier is bounded ({0,3}): texts reach 1 MiB, and an unbounded `\s*` before a bracket
// would be scanned again from every space of a long run (quadratic).
const REFANGS: readonly [RegExp, string][] = [
  [/\bh(?:xx|\*\*|\[tt\]|\[xx\]|tt)p(s?)\b/gi, 'http$1'],
  [/\bf(?:x|\[t\])p(s?)\b/gi, 'ftp$1'],
  [/[[({] {0,3}: {0,3}\/ {0,3}\/ {0,3}[\])}]/g, '://'],
  [/[[({] {0,3}: {0,3}[\])}] {0,3}\/\//g, '://'],
  [/[[({] {0,3}: {0,3}[\])}]/g, ':'],
  [/[ \t]{0,3}[[({] {0,3}(?:\.|dot) {0,3}[\])}][ \t]{0,3}/gi, '.'],
  [/[ \t]{0,3}[[({] {0,3}(?:@|at) {0,3}[\])}][ \t]{0,3}/gi, '@'],
  [/[[({] {0,3}\/ {0,3}[\])}]/g, '/'],
  // `example\.com`, as in regular expressions and some exports.
  [/\\\./g, '.'],
];

/** The text with defanged indicators made whole again: `hxxp://evil[.]example` → `http://evil.example`. */
export function refang(text: string): string {
  let out = text;
  for (const [pattern, replacement] of REFANGS) out = out.replace(pattern, replacement);
  return out;
}

const URL_PATTERN = /\b(?:https?|ftps?|sftp|wss?):\/\/[^\s<>"'`]+/gi;
// Where words end: spaces, quotes, brackets (an url's IPv6 literal is already masked) and separators.
const WORD_SEPARATORS = /[\s<>"'`()[\]{},;|]+/;
const SENTENCE_PUNCTUATION = '.,;:!?*';
const HASH_TYPES: Record<number, ObservableType> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/** `text` without the given characters at its start and end (a loop: `[…]+$` backtracks quadratically). */
function trimCharacters(text: string, characters: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && characters.includes(text.charAt(start))) start += 1;
  while (end > start && characters.includes(text.charAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

function trimEnd(text: string, characters: string): string {
  let end = text.length;
  while (end > 0 && characters.includes(text.charAt(end - 1))) end -= 1;
  return text.slice(0, end);
}

const count = (text: string, character: string): number => text.split(character).length - 1;

/** An url as written, less the punctuation of the sentence around it and unbalanced closing brackets. */
function trimUrl(raw: string): string {
  let url = trimEnd(raw, `.,;:!?'"`);
  for (const [open, close] of [
    ['(', ')'],
    ['[', ']'],
    ['{', '}'],
  ] as const) {
    let unbalanced = count(url, close) - count(url, open);
    while (unbalanced > 0 && url.endsWith(close)) {
      url = trimEnd(url.slice(0, -1), '.,;:!?');
      unbalanced -= 1;
    }
  }
  return url;
}

// Longer than any valid url (validators.ts): masked without being trimmed or checked.
const MAX_URL_CANDIDATE = 8192;

interface Found {
  index: number;
  observable: Observable;
}

function isPublicDomain(value: string): boolean {
  const parsed = parseDomain(value, { allowPrivateDomains: false });
  return parsed.isIcann === true && parsed.domain !== null;
}

export function extractObservables(text: string, guard: PrivacyGuard): Inspection {
  const refanged = refang(text);
  const found: Found[] = [];

  // Urls first, masked with spaces so that their parts are not read again as words.
  let masked = '';
  let last = 0;
  for (const match of refanged.matchAll(URL_PATTERN)) {
    const url = match[0].length > MAX_URL_CANDIDATE ? match[0] : trimUrl(match[0]);
    const index = match.index;
    if (url.length <= MAX_URL_CANDIDATE && isValidObservable('url', url)) found.push({ index, observable: { type: 'url', value: url } });
    masked += refanged.slice(last, index) + ' '.repeat(url.length);
    last = index + url.length;
  }
  masked += refanged.slice(last);

  // A domain also counts when it is internal: it is then reported as withheld, not dropped unseen.
  const isDomainHere = (value: string): boolean =>
    isValidObservable('domain', value) && (isPublicDomain(value) || guard.reasonToWithhold({ type: 'domain', value }) !== undefined);

  const classify = (word: string): Observable | undefined => {
    if (isIPv4(word)) return { type: 'ip', value: word };
    const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(word);
    if (withPort?.[1] !== undefined && isIPv4(withPort[1])) return { type: 'ip', value: withPort[1] };
    if (word.includes(':') && isIPv6(word)) return { type: 'ipv6', value: word.toLowerCase() };
    const hashType = /^[0-9a-f]+$/i.test(word) ? HASH_TYPES[word.length] : undefined;
    if (hashType !== undefined) return { type: hashType, value: word.toLowerCase() };
    const at = word.lastIndexOf('@');
    if (at > 0) {
      const email = `${word.slice(0, at)}@${word.slice(at + 1).toLowerCase()}`;
      return isValidObservable('email', email) && isDomainHere(email.slice(at + 1)) ? { type: 'email', value: email } : undefined;
    }
    const lower = word.toLowerCase();
    if (isDomainHere(lower)) return { type: 'domain', value: lower };
    // `evil.example.com/gate.php`: an url without its scheme, when its host is a domain or an address.
    const slash = word.indexOf('/');
    if (slash > 0) {
      const host = word.slice(0, slash).replace(/:\d{1,5}$/, '');
      if ((isIPv4(host) || isDomainHere(host.toLowerCase())) && isValidObservable('url', word)) return { type: 'url', value: word };
    }
    return undefined;
  };

  let offset = 0;
  for (const part of masked.split(new RegExp(`(${WORD_SEPARATORS.source})`))) {
    const index = offset;
    offset += part.length;
    if (part === '' || WORD_SEPARATORS.test(part)) continue;
    // `::1` and `2001:db8::` start or end with colons that are part of the address.
    const bare = trimCharacters(part, '.,;!?*');
    const word = bare.includes('::') && isIPv6(bare) ? bare : trimCharacters(part, SENTENCE_PUNCTUATION);
    if (word === '') continue;
    let observable = classify(word);
    // `ip=198.51.100.7`, `host:evil.example.com`, `C:\\Users\\…`: a label glued to a value.
    if (observable === undefined && /[=\\]/.test(word)) {
      for (const piece of word.split(/[=\\]+/)) {
        const candidate = classify(trimCharacters(piece, SENTENCE_PUNCTUATION));
        if (candidate !== undefined) found.push({ index, observable: candidate });
      }
      continue;
    }
    if (observable === undefined && /^[a-z][\w-]*:[^:]/i.test(word) && !word.includes('::')) {
      observable = classify(word.slice(word.indexOf(':') + 1));
    }
    if (observable !== undefined) found.push({ index, observable });
  }

  found.sort((a, b) => a.index - b.index);
  const seen = new Set<string>();
  const observables: Observable[] = [];
  for (const { observable } of found) {
    const key = `${observable.type}\u0000${observable.type === 'url' || observable.type === 'email' ? observable.value : observable.value.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    observables.push(observable);
  }
  const { kept, withheld } = guard.partition(observables);
  return { observables: kept, withheld: withheld as WithheldObservable[] };
}
