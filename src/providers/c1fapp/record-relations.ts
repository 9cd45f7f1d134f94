// The observed relations of one C1fApp record, in CTIM's closed relation vocabulary. The seed's
// url `Hosted_By` ip is not in that vocabulary (Threat Response refuses it), so it is expressed
// as url `Resolved_To` ip.
import { isIPv4, isIPv6 } from 'node:net';
import type { CtimRelation, ObservableRef, ObservedRelation } from '../../core/ctim.js';
import { observableRef } from '../../core/ctim.js';
import type { Observable } from '../../core/observables.js';
import { isDomain } from '../../core/validators.js';
import type { C1fappRecord } from './lookup-answer.js';
import { DISPLAY_NAME } from './display-name.js';
import { perObject } from '../../core/memo.js';

export const RELATION_ORIGIN = `${DISPLAY_NAME} Enrichment Module`;

function ipRef(value: string): ObservableRef | undefined {
  const trimmed = value.trim();
  if (isIPv4(trimmed)) return { type: 'ip', value: trimmed };
  if (isIPv6(trimmed)) return { type: 'ipv6', value: trimmed };
  return undefined;
}

// C1fApp puts the IP itself, `-` or '' in `domain` for IP feeds: only real names count.
function domainRef(value: string): ObservableRef | undefined {
  const trimmed = value.trim();
  return isDomain(trimmed) ? { type: 'domain', value: trimmed } : undefined;
}

/** `address` values that are URLs; for host-only feeds `address` is a bare domain or IP. */
function urlAddresses(record: C1fappRecord): { ref: ObservableRef; host: string }[] {
  const urls: { ref: ObservableRef; host: string }[] = [];
  for (const address of record.addresses) {
    const trimmed = address.trim();
    if (!/^https?:\/\//i.test(trimmed)) continue;
    try {
      urls.push({ ref: { type: 'url', value: trimmed }, host: new URL(trimmed).hostname.toLowerCase() });
    } catch {
      // Not parseable: no host to relate it to.
    }
  }
  return urls;
}

/** Whether a URL's host is the domain or a name under it (`www.a.example` contains `a.example`). */
function hostIsIn(host: string, domain: string): boolean {
  const name = domain.toLowerCase().replace(/\.$/, '');
  return host === name || host.endsWith(`.${name}`);
}

function defined<T>(items: readonly (T | undefined)[]): T[] {
  return items.filter((item): item is T => item !== undefined);
}

function relation(kind: CtimRelation, source: ObservableRef, related: ObservableRef): ObservedRelation {
  return { origin: RELATION_ORIGIN, relation: kind, source, related };
}

interface RecordRefs {
  ips: readonly ObservableRef[];
  domains: readonly ObservableRef[];
  urls: readonly { ref: ObservableRef; host: string }[];
}

// A cached answer's records are the same (frozen) objects on every hit: their values are
// checked and parsed once, not on every lookup.
const recordRefs = perObject(
  (record: C1fappRecord): RecordRefs =>
    Object.freeze({
      ips: Object.freeze(defined(record.ipAddresses.map(ipRef)).map((ref) => Object.freeze(ref))),
      domains: Object.freeze(defined(record.domains.map(domainRef)).map((ref) => Object.freeze(ref))),
      urls: Object.freeze(urlAddresses(record).map((url) => Object.freeze({ ref: Object.freeze(url.ref), host: url.host }))),
    }),
);

/**
 * Per observable type, the relations a record states about it:
 * - domain: the domain `Resolved_To` each IP, and each URL address on it `Contains` the domain;
 * - url: each URL address `Contains` its domains and `Resolved_To` each IP;
 * - ip: each domain (other than the IP itself) `Resolved_To` the IP.
 */
export function recordRelations(record: C1fappRecord, observable: Observable): ObservedRelation[] {
  const self = observableRef(observable);
  const { ips, domains, urls } = recordRefs(record);
  const relations: ObservedRelation[] = [];
  if (observable.type === 'domain') {
    for (const ip of ips) relations.push(relation('Resolved_To', self, ip));
    for (const url of urls) if (hostIsIn(url.host, observable.value)) relations.push(relation('Contains', url.ref, self));
  } else if (observable.type === 'url') {
    for (const url of urls) {
      for (const domain of domains) if (hostIsIn(url.host, domain.value)) relations.push(relation('Contains', url.ref, domain));
      for (const ip of ips) relations.push(relation('Resolved_To', url.ref, ip));
    }
  } else if (observable.type === 'ip') {
    for (const domain of domains) relations.push(relation('Resolved_To', domain, self));
  }
  return unique(relations);
}

function unique(relations: ObservedRelation[]): ObservedRelation[] {
  const seen = new Set<string>();
  return relations.filter((item) => {
    const key = `${item.relation}\u0000${item.source.type}\u0000${item.source.value}\u0000${item.related.type}\u0000${item.related.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
