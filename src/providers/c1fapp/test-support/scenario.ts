// A fake C1fApp for the shared suites and the benchmark: it checks the key in the POSTed body
// like the real API (403 `Invalid API key`) and answers every value with three records from two
// feeds, built on the domain fixture with the value put in.
import type { ProviderScenario } from '../../../../test/helpers/scenario.js';
import type { FakeHandler, FakeReply } from '../../../../test/helpers/fake-upstream.js';
import { fixture } from '../../../../test/helpers/fake-upstream.js';

export const SCENARIO_KEY = 'c1fapp-scenario-key';

interface FixtureRecord {
  domain: string[];
  address: string[];
  [field: string]: unknown;
}

const template = (fixture(new URL('../', import.meta.url), 'domain-records.json') as FixtureRecord[]).slice(0, 3);

function recordsFor(value: string): FixtureRecord[] {
  return template.map((record) => ({
    ...record,
    domain: [value],
    address: record.address.map((address) => (address.startsWith('http') ? `https://${value}/signin` : value)),
  }));
}

/**
 * The fake's handler; `delayMs` is added to every answer (the benchmark's upstream latency).
 * Answers 405 to anything but a POST, 400 to a body that is not C1fApp's request.
 */
export function createC1fappHandler(options: { key?: string; delayMs?: number } = {}): FakeHandler {
  const key = options.key ?? SCENARIO_KEY;
  const delay: Pick<FakeReply, 'delayMs'> = options.delayMs === undefined ? {} : { delayMs: options.delayMs };
  return (request) => {
    if (request.method !== 'POST') return { status: 405, body: 'Method Not Allowed', ...delay };
    let body: { key?: unknown; request?: unknown; format?: unknown };
    try {
      body = JSON.parse(request.body) as typeof body;
    } catch {
      return { status: 400, body: 'Bad Request', ...delay };
    }
    if (body.key !== key) return { status: 403, body: 'Invalid API key', ...delay };
    if (typeof body.request !== 'string' || body.request === '') {
      return { status: 200, body: 'Empty Search! Available search: IPv4/URL/Domain', ...delay };
    }
    return { status: 200, body: recordsFor(body.request), ...delay };
  };
}

export const c1fappScenario: ProviderScenario = {
  providerId: 'c1fapp',
  envFor: (fakeUrl) => ({ C1FAPP_API_URL: fakeUrl }),
  credentials: { key: SCENARIO_KEY },
  handler: createC1fappHandler(),
  observables: (n) => Array.from({ length: n }, (_, index) => ({ type: 'domain' as const, value: `host-${index}.c1fapp-scenario.example` })),
  // One POST per observable; the relay runs the observables concurrently.
  callDepth: 1,
  comparison: {
    // As the original: one POST per value, of any type.
    observables: (round = 0) => [
      ...Array.from({ length: 10 }, (_, index) => ({ type: 'domain' as const, value: `c-${round}-${index}.c1fapp-scenario.example` })),
      ...Array.from({ length: 5 }, (_, index) => ({ type: 'ip' as const, value: `192.0.2.${(round * 5 + index) % 256}` })),
      ...Array.from({ length: 5 }, (_, index) => ({ type: 'url' as const, value: `http://c-${round}-${index}.c1fapp-scenario.example/login` })),
    ],
    originalCalls: 20,
    makeup: '10 domain, 5 ip, 5 url; original: one POST for each',
  },
};
