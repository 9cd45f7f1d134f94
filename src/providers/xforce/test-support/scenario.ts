// A fake X-Force Exchange for the shared suites, the benchmark and this module's tests: it checks
// HTTP Basic credentials like the real API (401 otherwise) and answers every call observe makes
// with the fixtures, chosen by the observable's type as the real API's answers differ by type.
import { isIPv4, isIPv6 } from 'node:net';
import type { Observable } from '../../../core/observables.js';
import type { ObservableType } from '../../../core/validators.js';
import { fixture, type FakeHandler, type FakeReply, type RecordedRequest } from '../../../../test/helpers/fake-upstream.js';
import type { ProviderScenario } from '../../../../test/helpers/scenario.js';

const folder = new URL('../', import.meta.url);
const load = (name: string): unknown => fixture(folder, name);

export const XFORCE_CREDENTIALS = { key: 'xforce-test-key', password: 'xforce-test-password' };

const FIXTURES = {
  usage: load('usage.json'),
  notFound: load('not-found.json'),
  notAuthorized: load('not-authorized.json'),
  ipReport: load('ip-report.json'),
  ipv6Report: load('ipv6-report.json'),
  domainReport: load('domain-report.json'),
  urlReport: load('url-report.json'),
  md5Report: load('md5-report.json'),
  sha1Report: load('sha1-report.json'),
  sha256Report: load('sha256-report.json'),
  ipResolve: load('ip-resolve.json'),
  ipv6Resolve: load('ipv6-resolve.json'),
  domainResolve: load('domain-resolve.json'),
  ipLinkage: load('ip-linkage.json'),
  urlLinkage: load('url-linkage.json'),
  malwareLinkage: load('malware-linkage.json'),
};

export function basicAuthorizationOf(credentials: { key: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.key}:${credentials.password}`).toString('base64')}`;
}

const notFound: FakeReply = { status: 404, body: FIXTURES.notFound };

/** A url report looks like a domain's when the value is a bare host name. */
function isBareHost(value: string): boolean {
  return !/[/:?#]/.test(value);
}

function reportFor(value: string, kind: string): FakeReply {
  if (kind === 'ipr') return { body: isIPv6(value) ? FIXTURES.ipv6Report : FIXTURES.ipReport };
  if (kind === 'url') return { body: isBareHost(value) ? FIXTURES.domainReport : FIXTURES.urlReport };
  if (value.length === 32) return { body: FIXTURES.md5Report };
  if (value.length === 40) return { body: FIXTURES.sha1Report };
  if (value.length === 64) return { body: FIXTURES.sha256Report };
  return notFound;
}

function resolveFor(value: string): FakeReply {
  if (isIPv4(value)) return { body: FIXTURES.ipResolve };
  if (isIPv6(value)) return { body: FIXTURES.ipv6Resolve };
  return isBareHost(value) ? { body: FIXTURES.domainResolve } : notFound;
}

const LINKAGES: Record<string, unknown> = { ip: FIXTURES.ipLinkage, url: FIXTURES.urlLinkage, malware: FIXTURES.malwareLinkage };

/** The answer of the real API for one request, by its raw (encoded) path. */
export function xforceAnswer(request: RecordedRequest, credentials = XFORCE_CREDENTIALS): FakeReply {
  if (request.headers.authorization !== basicAuthorizationOf(credentials)) return { status: 401, body: FIXTURES.notAuthorized };
  const [path = '', query = ''] = request.url.split('?');
  const segments = path.split('/').slice(1);
  let decoded: string[];
  try {
    decoded = segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return { status: 400, body: { error: 'Bad request.' } };
  }
  const [first, second, third, fourth] = decoded;
  if (segments.length === 2 && first === 'all-subscriptions' && second === 'usage') return { body: FIXTURES.usage };
  if (segments.length === 2 && (first === 'ipr' || first === 'url' || first === 'malware') && second !== undefined) return reportFor(second, first);
  if (segments.length === 2 && first === 'resolve' && second !== undefined) return resolveFor(second);
  if (segments.length === 4 && first === 'api' && second === 'linkage' && third !== undefined && fourth !== undefined && query === 'maxpertype=20') {
    return LINKAGES[third] === undefined ? notFound : { body: LINKAGES[third] };
  }
  return notFound;
}

/** The fake's handler; `delayMs` adds latency to every answer (the benchmark's 100 ms per call). */
export function xforceHandler(options: { delayMs?: number } = {}): FakeHandler {
  return (request) => {
    const reply = xforceAnswer(request);
    return options.delayMs === undefined ? reply : { ...reply, delayMs: options.delayMs };
  };
}

const TYPES: readonly ObservableType[] = ['ip', 'domain', 'url', 'md5', 'ipv6', 'sha1', 'sha256'];

/** The `index`-th distinct observable the fake knows; the types take turns. */
export function xforceObservable(index: number): Observable {
  const type = TYPES[index % TYPES.length] ?? 'ip';
  const hex = index.toString(16);
  switch (type) {
    case 'ip':
      // Benchmarking space (198.18.0.0/15): public as far as the privacy guard goes, never routed.
      return { type, value: `198.${18 + ((index >> 16) & 1)}.${(index >> 8) & 255}.${index & 255}` };
    case 'ipv6':
      return { type, value: `2001:db8::${hex}` };
    case 'domain':
      return { type, value: `host-${index}.example.com` };
    case 'url':
      return { type, value: `http://host-${index}.example.com/download.php?id=${index}` };
    case 'md5':
      return { type, value: hex.padStart(32, '0') };
    case 'sha1':
      return { type, value: hex.padStart(40, '0') };
    default:
      return { type, value: hex.padStart(64, '0') };
  }
}

/** How many of each type the benchmark's comparison list holds: 17 with DNS records, 3 without. */
const COMPARISON_MAKEUP: [ObservableType, number][] = [
  ['ip', 6],
  ['ipv6', 5],
  ['domain', 6],
  ['url', 1],
  ['md5', 1],
  ['sha256', 1],
];

/**
 * The original relay's calls for its list: report and linkage for every value, and resolve for
 * ips, ipv6s and domains (3 × 17 + 2 × 3 = 57). It stops calling once the entities limit is used up,
 * which this list (26 entities a value at most) never reaches with the default limit of 100.
 */
export const XFORCE_ORIGINAL_CALLS = 57;

export function xforceComparisonObservables(round = 0): Observable[] {
  const list: Observable[] = [];
  for (const [type, count] of COMPARISON_MAKEUP) {
    // Indices of `type` only (the types take turns), from a range of their own per round.
    const first = TYPES.length * (1000 + (round % 50) * 100) + TYPES.indexOf(type);
    for (let taken = 0; taken < count; taken += 1) list.push(xforceObservable(first + taken * TYPES.length));
  }
  return list;
}

export const xforceScenario: ProviderScenario = {
  providerId: 'xforce',
  envFor: (fakeUrl) => ({ XFORCE_API_URL: fakeUrl, XFORCE_UI_URL: 'https://exchange.xforce.example/' }),
  credentials: XFORCE_CREDENTIALS,
  handler: xforceHandler(),
  observables: (n) => Array.from({ length: n }, (_, index) => xforceObservable(index)),
  // Report, resolve and linkage of one observable go out together.
  callDepth: 1,
  comparison: {
    observables: xforceComparisonObservables,
    originalCalls: XFORCE_ORIGINAL_CALLS,
    makeup: '6 ip, 5 ipv6, 6 domain, 1 url, 1 md5, 1 sha256; original: report + linkage for each, resolve for ip/ipv6/domain (3 × 17 + 2 × 3)',
  },
};
