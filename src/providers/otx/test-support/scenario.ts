// The OTX scenario for the shared suites, the benchmark and the CLI tests: a fake OTX that knows
// any valid observable, built from the recorded fixtures. By default every observable is in 5
// pulses of 3 pages each, found on the last page (the benchmark's case: 1 + 5 × 3 = 16 calls per
// observable, in 3 round trips); `otxFakeHandler({...})` and shapedDomain() build other shapes.
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Observable } from '../../../core/observables.js';
import type { ProviderScenario } from '../../../../test/helpers/scenario.js';
import { fixture, type FakeHandler, type FakeReply } from '../../../../test/helpers/fake-upstream.js';
import { OTX_TEST_KEY, keyChecked, parseRequest, pulseIdFor } from './fixture-handler.js';

const folder = new URL('../', import.meta.url);

interface Template {
  general: Record<string, unknown>;
  pulse: Record<string, unknown>;
  droppedPulse: Record<string, unknown>;
  page: { results: Record<string, unknown>[] } & Record<string, unknown>;
}

function loadTemplate(): Template {
  const general = fixture(folder, 'general-ip.json') as Record<string, unknown> & { pulse_info: { pulses: Record<string, unknown>[] } };
  const [droppedPulse, pulse] = general.pulse_info.pulses as [Record<string, unknown>, Record<string, unknown>];
  const page = fixture(folder, 'pulse-emotet-page-1.json') as Template['page'];
  return { general, pulse, droppedPulse, page };
}

/** OTX's own type of a value, as its `general` section names it; undefined when OTX would answer 404. */
function otxType(section: string, value: string): string | undefined {
  if (section === 'IPv4') return isIPv4(value) ? 'IPv4' : undefined;
  if (section === 'IPv6') return isIPv6(value) ? 'IPv6' : undefined;
  if (section === 'domain') return 'domain';
  if (section === 'url') return 'URL';
  if (section === 'file') return { 32: 'FileHash-MD5', 40: 'FileHash-SHA1', 64: 'FileHash-SHA256' }[value.length];
  return undefined;
}

/** Domains under this suffix, and ips in 192.0.2.0/24, are unknown to the fake (404 for `general`). */
export const OTX_UNKNOWN_SUFFIX = 'unknown.example';

/** A domain `<anything>.pulses-<P>x<N>.example` is in P pulses of N pages each, whatever the defaults. */
export function shapedDomain(name: string, pulses: number, pages: number): string {
  return `${name}.pulses-${pulses}x${pages}.example`;
}

interface Shape {
  pulses: number;
  pages: number;
}

function shapeOf(value: string, defaults: Shape): Shape | undefined {
  if (value.startsWith('192.0.2.') || value.endsWith(`.${OTX_UNKNOWN_SUFFIX}`)) return undefined;
  const shaped = /\.pulses-(\d+)x(\d+)\.example$/.exec(value);
  return shaped === null ? defaults : { pulses: Number(shaped[1]), pages: Number(shaped[2]) };
}

/** Calls the original relay makes for otxComparisonObservables(): `general` for each, and every page of the 3 known ones' 2 pulses. */
export const OTX_ORIGINAL_CALLS = 32;

/** 3 domains OTX knows, each in 2 pulses of 2 pages (found on the last), and 17 values it does not (9 ips, 8 domains). */
export function otxComparisonObservables(round = 0): Observable[] {
  return [
    ...Array.from({ length: 3 }, (_, index) => ({ type: 'domain' as const, value: shapedDomain(`c-${round}-${index}`, 2, 2) })),
    ...Array.from({ length: 9 }, (_, index) => ({ type: 'ip' as const, value: `192.0.2.${(round * 9 + index) % 256}` })),
    ...Array.from({ length: 8 }, (_, index) => ({ type: 'domain' as const, value: `u-${round}-${index}.${OTX_UNKNOWN_SUFFIX}` })),
  ];
}

export interface OtxFakeOptions {
  key?: string;
  /** Pulses of each value (but those shapedDomain() names and the unknown ones). */
  pulsesPerObservable?: number;
  pagesPerPulse?: number;
  /** Added to every answer, so a benchmark can model the provider's latency. */
  delayMs?: number;
}

export function otxFakeHandler(options: OtxFakeOptions = {}): FakeHandler {
  const { key = OTX_TEST_KEY, pulsesPerObservable = 5, pagesPerPulse = 3, delayMs } = options;
  const template = loadTemplate();
  // Pulse id → the observable it was made for (pulse ids are handed out by the general answers).
  const pulses = new Map<string, { value: string; type: string; index: number; pages: number }>();
  const timed = (reply: FakeReply): FakeReply => (delayMs === undefined ? reply : { ...reply, delayMs });

  return keyChecked(key, (request) => {
    const { segments, query } = parseRequest(request);
    if (segments.join('/') === 'api/v1/user/me') return timed({ body: fixture(folder, 'user-me.json') });
    const [api, version, collection, id, value, last] = segments;
    if (api !== 'api' || version !== 'v1') return timed({ status: 404, body: { detail: 'Not found.' } });

    if (collection === 'indicators' && last === 'general' && segments.length === 6 && id !== undefined && value !== undefined) {
      const type = otxType(id, value);
      const shape = shapeOf(value, { pulses: pulsesPerObservable, pages: pagesPerPulse });
      if (type === undefined || shape === undefined) return timed({ status: 404, body: { detail: 'Not found.' } });
      const generated = Array.from({ length: shape.pulses }, (_, index) => {
        const pulseId = pulseIdFor(value, index);
        pulses.set(pulseId, { value, type, index, pages: shape.pages });
        const day = String(1 + (index % 28)).padStart(2, '0');
        return {
          ...template.pulse,
          id: pulseId,
          name: `${String(template.pulse.name)} #${index + 1}`,
          created: `2024-03-${day}T08:00:00.000000`,
          modified: `2024-04-${day}T08:00:00.000000`,
          indicator_type_counts: { [type]: shape.pages * template.page.results.length },
        };
      });
      // A pulse that only relates to the value (none of its indicators has the value's type).
      const dropped = { ...template.droppedPulse, id: pulseIdFor(value, 'related'), indicator_type_counts: { hostname: 4, CVE: 1 } };
      return timed({
        body: {
          ...template.general,
          indicator: value,
          type,
          base_indicator: { ...(template.general.base_indicator as object), indicator: value, type },
          pulse_info: { count: generated.length + 1, pulses: [dropped, ...generated], references: [] },
        },
      });
    }

    if (collection === 'pulses' && value === 'indicators' && segments.length === 5 && id !== undefined) {
      const pulse = pulses.get(id);
      const page = Number(query.get('page') ?? '1');
      if (pulse === undefined || !Number.isInteger(page) || page < 1 || page > pulse.pages) return timed({ status: 404, body: { detail: 'Not found.' } });
      const results: Record<string, unknown>[] = template.page.results.map((entry, index) => ({ ...entry, id: page * 1000 + index }));
      // The value sits on the last page, so a search reads every page.
      if (page === pulse.pages) {
        const day = String(1 + (pulse.index % 28)).padStart(2, '0');
        results[results.length - 1] = { ...results[results.length - 1], indicator: pulse.value, type: pulse.type, created: `2024-03-${day}T08:05:00` };
      }
      const next = page < pulse.pages ? `https://otx.alienvault.com/api/v1/pulses/${id}/indicators?page=${page + 1}` : null;
      return timed({ body: { ...template.page, results, count: pulse.pages * results.length, previous: null, next } });
    }
    return timed({ status: 404, body: { detail: 'Not found.' } });
  });
}

function hex(algorithm: string, index: number): string {
  return createHash(algorithm).update(`otx-scenario-${index}`).digest('hex');
}

/** Distinct valid observables of every type OTX looks up, in turn. */
export function otxObservables(n: number): Observable[] {
  const makers: ((index: number) => Observable)[] = [
    (index) => ({ type: 'ip', value: `198.${18 + ((index >> 16) & 1)}.${(index >> 8) & 255}.${index & 255}` }),
    (index) => ({ type: 'domain', value: `host-${index}.example.com` }),
    (index) => ({ type: 'url', value: `http://host-${index}.example.net/gate.php?id=${index}&x=1` }),
    (index) => ({ type: 'md5', value: hex('md5', index) }),
    (index) => ({ type: 'sha1', value: hex('sha1', index) }),
    (index) => ({ type: 'sha256', value: hex('sha256', index) }),
    (index) => ({ type: 'ipv6', value: `2001:db8::${index.toString(16)}` }),
  ];
  return Array.from({ length: n }, (_, index) => makers[index % makers.length]!(index));
}

export const otxScenario: ProviderScenario = {
  providerId: 'otx',
  envFor: (fakeUrl) => ({ OTX_API_URL: fakeUrl }),
  credentials: { key: OTX_TEST_KEY },
  handler: otxFakeHandler(),
  observables: otxObservables,
  // The general lookup, the first page of every pulse, then the other pages at once.
  callDepth: 3,
  comparison: {
    observables: otxComparisonObservables,
    originalCalls: OTX_ORIGINAL_CALLS,
    makeup: '3 known domains, each in 2 pulses of 2 pages (found on page 2), 17 unknown (9 ip, 8 domain); original: general for each (20) + 2 × 2 pages for each known (12)',
  },
};
