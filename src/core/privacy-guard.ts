// The privacy guard: observables that name the user's own network never leave it. Every way in
// (the relay modules' endpoints, the enrichment core, so the CLI and MCP too) drops them before any
// upstream call, as it drops unsupported observables: no entities, no error, no call.
// Address ranges come from ipaddr.js (the range table Node's own proxy-addr relies on), not from
// hand-written prefixes; documentation ranges (192.0.2.0/24, 2001:db8::/32, …) are not private.
import ipaddr from 'ipaddr.js';
import type { Observable } from './observables.js';
import type { Settings } from './settings.js';

export interface WithheldObservable extends Observable {
  /** Why it was kept back, e.g. `private address (RFC 1918)`, `internal domain (.local)`. */
  reason: string;
}

export interface PrivacyGuard {
  /** Whether the guard is on (`PRIVATE_OBSERVABLES=withhold`). */
  readonly enabled: boolean;
  /** Why the observable must not leave, or undefined when it may be looked up. */
  reasonToWithhold(observable: Observable): string | undefined;
  /** The observables that may be looked up, and those kept back with their reason, both in order. */
  partition(observables: readonly Observable[]): { kept: Observable[]; withheld: WithheldObservable[] };
}

export type PrivacySettings = Pick<Settings, 'PRIVATE_OBSERVABLES' | 'INTERNAL_DOMAINS'>;

// ipaddr.js range names → what an analyst reads. Ranges not listed here are looked up.
const PRIVATE_RANGES: Record<string, string> = {
  private: 'private address (RFC 1918)',
  carrierGradeNat: 'shared address space (RFC 6598)',
  loopback: 'loopback address',
  linkLocal: 'link-local address',
  unspecified: 'unspecified address',
  broadcast: 'broadcast address',
  multicast: 'multicast address',
  uniqueLocal: 'unique local address (fc00::/7)',
};

/** Why an IPv4 or IPv6 address is private or local, or undefined (also for anything not an address). */
export function privateAddressReason(address: string): string | undefined {
  // `fe80::1%eth0`: the zone names a local interface, the address is what counts.
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return undefined;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(bare);
  } catch {
    return undefined;
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    const inner = PRIVATE_RANGES[(parsed as ipaddr.IPv6).toIPv4Address().range()];
    return inner === undefined ? undefined : `IPv4-mapped ${inner}`;
  }
  return PRIVATE_RANGES[parsed.range()];
}

/** Lower-cased suffixes without leading dots: `.Corp.Example.com` → `corp.example.com`. */
function normaliseSuffixes(suffixes: readonly string[]): string[] {
  return [...new Set(suffixes.map((suffix) => suffix.trim().toLowerCase().replace(/^\.+|\.+$/g, '')).filter((suffix) => suffix !== ''))];
}

/** The host of an url as the URL parser reads it (scheme optional, as the validators accept). */
function urlHost(value: string): string | undefined {
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  try {
    const host = new URL(candidate).hostname;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

export function createPrivacyGuard(settings: PrivacySettings): PrivacyGuard {
  const enabled = settings.PRIVATE_OBSERVABLES !== 'send';
  const suffixes = normaliseSuffixes(settings.INTERNAL_DOMAINS);

  const internalDomainReason = (host: string): string | undefined => {
    const name = host.toLowerCase().replace(/\.+$/, '');
    const suffix = suffixes.find((candidate) => name === candidate || name.endsWith(`.${candidate}`));
    return suffix === undefined ? undefined : `internal domain (.${suffix})`;
  };
  // A host is an address (urls may carry one, bracketed for IPv6) or a domain name.
  const hostReason = (host: string): string | undefined => privateAddressReason(host) ?? internalDomainReason(host);

  const reasonToWithhold = (observable: Observable): string | undefined => {
    if (!enabled) return undefined;
    switch (observable.type) {
      case 'ip':
      case 'ipv6':
        return privateAddressReason(observable.value);
      case 'domain':
        return internalDomainReason(observable.value);
      case 'email': {
        const domain = observable.value.slice(observable.value.lastIndexOf('@') + 1);
        return hostReason(domain);
      }
      case 'url': {
        const host = urlHost(observable.value);
        return host === undefined ? undefined : hostReason(host);
      }
      default:
        return undefined;
    }
  };

  return {
    enabled,
    reasonToWithhold,
    partition(observables) {
      const kept: Observable[] = [];
      const withheld: WithheldObservable[] = [];
      if (!enabled) return { kept: [...observables], withheld };
      for (const observable of observables) {
        const reason = reasonToWithhold(observable);
        if (reason === undefined) kept.push(observable);
        else withheld.push({ type: observable.type, value: observable.value, reason });
      }
      return { kept, withheld };
    },
  };
}
