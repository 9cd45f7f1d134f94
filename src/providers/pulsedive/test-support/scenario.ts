// A fake Pulsedive for the shared suites, the benchmark and this module's tests: `info.php` that
// checks the `key` parameter like the real API and knows every value it is asked about, answering
// from this module's fixtures.
import { isIPv4, isIPv6 } from 'node:net';
import type { Observable } from '../../../core/observables.js';
import type { ProviderScenario } from '../../../../test/helpers/scenario.js';
import { fixture, type FakeHandler, type FakeReply } from '../../../../test/helpers/fake-upstream.js';

const providerFolder = new URL('../', import.meta.url);

export const PULSEDIVE_TEST_KEY = 'pulsedive-test-key-0123456789';
/** The "now" the fixtures were written for; the fake moves their stamps so that it is today. */
export const FIXTURES_NOW = new Date('2020-04-15T12:00:00Z');

const answers = {
  info: fixture(providerFolder, 'info-domain-medium.json'),
  linksOfDomain: fixture(providerFolder, 'links-domain.json'),
  linksOfIp: fixture(providerFolder, 'links-ip.json'),
  health: fixture(providerFolder, 'health.json'),
  invalidKey: fixture(providerFolder, 'invalid-key.json'),
  notFound: fixture(providerFolder, 'not-found.json'),
};

function pad(number: number): string {
  return String(number).padStart(2, '0');
}

function pulsediveStamp(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** A copy of an answer with every non-empty `stamp_*` moved by `shiftMs`. */
export function shiftStamps(json: unknown, shiftMs: number): unknown {
  if (Array.isArray(json)) return json.map((item) => shiftStamps(item, shiftMs));
  if (json === null || typeof json !== 'object') return json;
  return Object.fromEntries(
    Object.entries(json).map(([name, value]) => {
      if (name.startsWith('stamp_') && typeof value === 'string' && value !== '') {
        return [name, pulsediveStamp(new Date(new Date(`${value.replace(' ', 'T')}Z`).getTime() + shiftMs))];
      }
      return [name, shiftStamps(value, shiftMs)];
    }),
  );
}

function typeOf(value: string): string {
  if (isIPv4(value)) return 'ip';
  if (isIPv6(value)) return 'ipv6';
  return value.includes('/') || value.includes(':') ? 'url' : 'domain';
}

/** A stable small number per value, as Pulsedive's iid. */
function indicatorId(value: string): number {
  let hash = 7;
  for (const character of value) hash = (hash * 31 + character.charCodeAt(0)) % 1_000_000_007;
  return hash;
}

export interface PulsediveFakeOptions {
  key?: string;
  /** Milliseconds every answer waits, for latency in the benchmark. */
  delayMs?: number;
  /** The fake's "now" (the fixtures' stamps are moved to it); the real clock by default. */
  now?: () => Date;
}

/** Domains under this suffix, and ips in 198.19.0.0/16, are unknown to the fake ("Indicator not found."). */
export const UNKNOWN_DOMAIN_SUFFIX = 'unknown.example';

function isUnknownValue(value: string): boolean {
  return value.startsWith('198.19.') || value.endsWith(`.${UNKNOWN_DOMAIN_SUFFIX}`);
}

/** Calls the original relay makes for pulsediveComparisonObservables(): `info` for each, `links` for the 8 known. */
export const PULSEDIVE_ORIGINAL_CALLS = 28;

/** 8 values the fake knows (4 ips, 4 domains) and 12 it does not (6 ips, 6 domains); `round` (0–255) gives other values. */
export function pulsediveComparisonObservables(round = 0): Observable[] {
  const list: Observable[] = [];
  for (let index = 0; index < 4; index += 1) {
    list.push({ type: 'ip', value: `198.18.${200 + (round % 50)}.${index}` });
    list.push({ type: 'domain', value: `known-${round}-${index}.example.net` });
  }
  for (let index = 0; index < 6; index += 1) {
    list.push({ type: 'ip', value: `198.19.${round & 255}.${index}` });
    list.push({ type: 'domain', value: `unknown-${round}-${index}.${UNKNOWN_DOMAIN_SUFFIX}` });
  }
  return list;
}

export function pulsediveHandler(options: PulsediveFakeOptions = {}): FakeHandler {
  const key = options.key ?? PULSEDIVE_TEST_KEY;
  const answer = (url: URL): FakeReply => {
    if (url.pathname !== '/info.php') return { status: 404, body: '<html>Not Found</html>' };
    if (url.searchParams.get('key') !== key) return { status: 401, body: answers.invalidKey };
    const shift = (options.now?.() ?? new Date()).getTime() - FIXTURES_NOW.getTime();
    if (url.searchParams.get('iid') !== null) return { body: shiftStamps(answers.health, shift) };
    const value = url.searchParams.get('indicator');
    if (value === null || value === '') return { status: 400, body: { error: 'Invalid indicator.' } };
    if (isUnknownValue(value)) return { status: 404, body: answers.notFound };
    const type = typeOf(value);
    if (url.searchParams.get('get') === 'links') {
      const links = type === 'domain' ? answers.linksOfDomain : type === 'url' ? {} : answers.linksOfIp;
      return { body: shiftStamps(links, shift) };
    }
    const info = shiftStamps(answers.info, shift) as Record<string, unknown>;
    return { body: { ...info, iid: indicatorId(value), type, indicator: value } };
  };
  return (request) => {
    const reply = answer(new URL(request.url, 'http://pulsedive.invalid'));
    return options.delayMs === undefined ? reply : { ...reply, delayMs: options.delayMs };
  };
}

export const pulsediveScenario: ProviderScenario = {
  providerId: 'pulsedive',
  envFor: (fakeUrl) => ({ PULSEDIVE_API_URL: fakeUrl, PULSEDIVE_UI_URL: fakeUrl }),
  credentials: { key: PULSEDIVE_TEST_KEY },
  handler: pulsediveHandler(),
  // Alternately ips (198.18.0.0/15, set aside for tests) and domains: distinct for any n.
  observables: (n) =>
    Array.from({ length: n }, (_, index) =>
      index % 2 === 0
        ? { type: 'ip' as const, value: `198.18.${(index >> 8) & 255}.${index & 255}` }
        : { type: 'domain' as const, value: `host-${index}.example.net` },
    ),
  // info, then links (only for what Pulsedive knows: every value of `observables`).
  callDepth: 2,
  comparison: {
    observables: pulsediveComparisonObservables,
    originalCalls: PULSEDIVE_ORIGINAL_CALLS,
    makeup: '8 known (4 ip, 4 domain), 12 unknown (6 ip, 6 domain); original: info for each (20) + links for each known (8)',
  },
};
