// A hostile OTX, built from the project's own OTX fixtures: every value it is asked about is in
// `pulses` pulses of its own (a flood of distinct values means a flood of distinct pulses), each
// pulse's indicator list is endless unless `pages` says otherwise (every page says there is a
// next one, none lists the value),
// and answers can be made huge (`entriesPerPage`) and slow (`delayMs`). What the relay makes of
// it is bounded only by its own budgets.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FakeHandler, FakeReply, RecordedRequest } from './fake-upstream.js';

const fixtures = new URL('../../src/providers/otx/fixtures/', import.meta.url);
const load = (name: string): any => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8'));

export const HOSTILE_OTX_KEY = 'hostile-otx-test-key-0123456789abcdef';

export interface HostileOtxOptions {
  /** Pulses listing each value (real OTX lists hundreds for popular addresses). */
  pulses?: number;
  /** Entries on each page of a pulse's indicator list (none of them the value). */
  entriesPerPage?: number;
  /** Pages of each pulse's list (default: endless, each page says there is a next one). */
  pages?: number;
  /** Milliseconds before every answer. */
  delayMs?: number;
  /** Called for every request (counting, say). */
  onRequest?: (request: RecordedRequest) => void;
}

/**
 * `n` distinct IPv4 addresses of 198.18.0.0/15, the benchmarking range (RFC 2544): never a real
 * indicator, and not private, so the privacy guard lets them through.
 */
export function distinctIps(n: number, offset = 0): { type: string; value: string }[] {
  return Array.from({ length: n }, (_, index) => {
    const i = index + offset;
    return { type: 'ip', value: `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}` };
  });
}

export function hostileOtxHandler(options: HostileOtxOptions = {}): FakeHandler {
  const pulseCount = options.pulses ?? 1000;
  const entries = options.entriesPerPage ?? 100;
  const general = load('general-ip.json');
  const template = general.pulse_info.pulses.find((pulse: { indicator_type_counts: object }) => Object.hasOwn(pulse.indicator_type_counts, 'IPv4'));
  const page = load('pulse-emotet-page-1.json');
  const entry = page.results[0];
  // One page body for every pulse and page: never the value, always a next page.
  const results = Array.from({ length: entries }, (_, index) => ({ ...entry, id: 1_000_000 + index, indicator: `192.0.2.${index % 250}` }));
  // Bodies are bytes, built from serialised pieces: the benchmark's fakes share the relay's cores,
  // so what they spend answering thousands of these is taken from the relay being measured.
  const pageBody = Buffer.from(JSON.stringify({ ...page, count: 1_000_000, next: 'https://otx.alienvault.com/api/v1/pulses/x/indicators?page=2', results }));
  const lastPageBody = Buffer.from(JSON.stringify({ ...page, count: entries, next: null, results }));
  const [before = '', middle = '', after = ''] = JSON.stringify({ ...template, id: '\u0000', name: '\u0001' }).split(/\\u000[01]/);
  const { pulse_info: pulseInfo, ...rest } = general;
  const [infoBefore = '', infoAfter = ''] = JSON.stringify({ ...pulseInfo, count: pulseCount, pulses: [] }).split('"pulses":[]');
  const [opening, beforeId, beforeName, afterName, comma, closing] = [
    `${JSON.stringify(rest).slice(0, -1)},"pulse_info":${infoBefore}"pulses":[`,
    before,
    middle,
    after,
    ',',
    `]${infoAfter}}`,
  ].map((text) => Buffer.from(text)) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  const generalBody = (value: string): Buffer => {
    // The value's part of every pulse id, hashed once per answer.
    const valueHash = createHash('sha1').update(value).digest('hex').slice(0, 16);
    const pieces: Buffer[] = [opening];
    for (let index = 0; index < pulseCount; index += 1) {
      if (index > 0) pieces.push(comma);
      pieces.push(beforeId, Buffer.from(`${(index + 1).toString(16).padStart(8, '0')}${valueHash}`), beforeName, Buffer.from(`Hostile pulse ${index} for ${value}`), afterName);
    }
    pieces.push(closing);
    return Buffer.concat(pieces);
  };
  const delay = (reply: FakeReply): FakeReply => (options.delayMs === undefined ? reply : { ...reply, delayMs: options.delayMs });

  return (request) => {
    options.onRequest?.(request);
    if (request.headers['x-otx-api-key'] !== HOSTILE_OTX_KEY) return { status: 403, body: { detail: 'Authentication required' } };
    const [path = ''] = request.url.split('?', 1);
    const segments = path.split('/').slice(1).map((segment) => decodeURIComponent(segment));
    if (segments[2] === 'user') return delay({ body: load('user-me.json') });
    if (segments[2] === 'indicators' && segments[5] === 'general') return delay({ body: generalBody(segments[4] ?? '') });
    if (segments[2] === 'pulses') {
      const number = Number(new URLSearchParams(request.url.split('?')[1] ?? '').get('page') ?? '1');
      return delay({ body: options.pages !== undefined && number >= options.pages ? lastPageBody : pageBody });
    }
    return { status: 404, body: { detail: 'Not found.' } };
  };
}
