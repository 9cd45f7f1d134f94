import type { ProviderScenario } from '../../../../test/helpers/scenario.js';
import { fixture } from '../../../../test/helpers/fake-upstream.js';

const malicious = fixture(new URL('../', import.meta.url), 'malicious.json');

export const cybercrimeTrackerScenario: ProviderScenario = {
  providerId: 'cybercrime-tracker',
  envFor: (fakeUrl) => ({ CYBERCRIME_TRACKER_URL: fakeUrl }),
  credentials: null,
  handler: (request) => (request.url.startsWith('/query.php') ? { body: malicious } : { status: 200, body: '<html></html>' }),
  observables: (n) => Array.from({ length: n }, (_, index) => ({ type: 'ip' as const, value: `198.51.100.${index % 250}` })).map((o, i) => (i < 250 ? o : { type: 'ip' as const, value: `203.0.113.${i % 250}` })),
  callDepth: 1,
  comparison: {
    // Ips and urls, the types the original looks up (one query.php call each); it had no domain lookup.
    observables: (round = 0) => [
      ...Array.from({ length: 10 }, (_, index) => ({ type: 'ip' as const, value: `192.0.2.${(round * 10 + index) % 256}` })),
      ...Array.from({ length: 10 }, (_, index) => ({ type: 'url' as const, value: `http://c2-${round}-${index}.cct-scenario.example/panel/gate.php` })),
    ],
    originalCalls: 20,
    makeup: '10 ip, 10 url; original: one query.php call for each (it looks up no domains)',
  },
};
