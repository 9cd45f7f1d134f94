// A fake OTX answering from the recorded fixtures: the IP 203.0.113.45 in four pulses (one
// dropped by its indicator types, one matched on its second page, one on its first, one too
// large for any call budget), and one pulse holding an observable of every other type.
import { createHash } from 'node:crypto';
import { fixture, type FakeHandler, type FakeReply, type RecordedRequest } from '../../../../test/helpers/fake-upstream.js';

const folder = new URL('../', import.meta.url);
const load = (name: string): unknown => fixture(folder, name);

export const OTX_TEST_KEY = 'b3f1c0d2e4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff';

/** The observables the fixtures know, by type, and the fixture of each one's `general` answer. */
export const KNOWN = {
  ip: '203.0.113.45',
  ipv6: '2001:db8:85a3::8a2e:370:7334',
  domain: 'cdn-update.example.net',
  url: 'http://cdn-update.example.net/gate.php?id=7&campaign=oct',
  md5: '9e107d9d372bb6826bd81d3542a419d6',
  sha1: '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12',
  sha256: 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592',
} as const;

export const PULSES = {
  emotet: '64b7f2c1a9e3d40012ab34cd',
  honeypot: '65a1c0e4f2b9a80021cd5e7f',
  phishing: '63f0aa12b4c5d60033ef7a81',
  scanner: '5f2d9e8c7b6a540044aa1b2c',
  multiType: '6523b8d1e4f5a60011bb2c3d',
} as const;

const GENERAL_FIXTURES = new Map<string, string>(Object.entries(KNOWN).map(([type, value]) => [value, `general-${type}.json`]));

const PAGE_FIXTURES: Record<string, (page: number) => string | undefined> = {
  [PULSES.emotet]: (page) => (page <= 2 ? `pulse-emotet-page-${page}.json` : undefined),
  [PULSES.honeypot]: (page) => (page === 1 ? 'pulse-honeypot-page-1.json' : undefined),
  // Endless: a pulse larger than any call budget.
  [PULSES.scanner]: () => 'pulse-scanner-page.json',
  [PULSES.multiType]: (page) => (page === 1 ? 'pulse-multi-type-page-1.json' : undefined),
};

const NOT_FOUND: FakeReply = { status: 404, body: { detail: 'Not found.' } };

/** The request's path split into decoded segments, and its query. */
export function parseRequest(request: RecordedRequest): { segments: string[]; query: URLSearchParams } {
  const [path = '', search = ''] = request.url.split('?', 2);
  return { segments: path.split('/').slice(1).map((segment) => decodeURIComponent(segment)), query: new URLSearchParams(search) };
}

/** Like OTX: 403 without the right key in `X-OTX-API-KEY`. */
export function keyChecked(key: string, handler: FakeHandler): FakeHandler {
  return (request) => (request.headers['x-otx-api-key'] === key ? handler(request) : { status: 403, body: load('unauthorized.json') });
}

export function otxFixtureHandler(key = OTX_TEST_KEY): FakeHandler {
  return keyChecked(key, (request) => {
    const { segments, query } = parseRequest(request);
    const route = segments.slice(0, 3).join('/');
    if (route !== 'api/v1/indicators' && route !== 'api/v1/pulses' && route !== 'api/v1/user') return NOT_FOUND;
    if (segments.length === 4 && segments[2] === 'user' && segments[3] === 'me') return { body: load('user-me.json') };
    if (segments.length === 6 && segments[2] === 'indicators' && segments[5] === 'general') {
      return { body: load(GENERAL_FIXTURES.get(segments[4] ?? '') ?? 'general-unknown.json') };
    }
    if (segments.length === 5 && segments[2] === 'pulses' && segments[4] === 'indicators') {
      const name = PAGE_FIXTURES[segments[3] ?? '']?.(Number(query.get('page') ?? '1'));
      return name === undefined ? NOT_FOUND : { body: load(name) };
    }
    return NOT_FOUND;
  });
}

/** A stable 24-hex pulse id, like OTX's. */
export function pulseIdFor(...parts: readonly (string | number)[]): string {
  return createHash('sha1').update(parts.join('\u0000')).digest('hex').slice(0, 24);
}
