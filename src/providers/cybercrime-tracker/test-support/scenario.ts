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
};
