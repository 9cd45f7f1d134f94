// A provider that puts its key in the query string (as Pulsedive does), for the cache, single-flight
// and rate-limit tests: one upstream call per observable, 404 meaning "nothing known".
import { z } from 'zod/v4';
import { buildVerdict } from '../../src/core/ctim.js';
import { defineProvider } from '../../src/core/provider.js';
import { setting } from '../../src/core/settings.js';
import { statusError, upstreamUrl } from '../../src/core/upstream.js';

export const keyedProvider = defineProvider({
  id: 'keyed',
  displayName: 'Keyed',
  supportedTypes: ['ip', 'domain'],
  credentialsSchema: z.object({ key: z.string().min(1) }),
  settingsSchema: z.object({ KEYED_URL: setting.httpUrl('http://127.0.0.1:9/') }).transform((env) => ({ baseUrl: env.KEYED_URL })),

  async health({ http, config, credentials }) {
    const response = await http.request({ call: 'health', url: upstreamUrl(config.baseUrl, ['health'], { key: credentials.key }) });
    if (response.status !== 200) throw statusError(response, 'Keyed');
  },

  async observe({ http, config, credentials, now }, observable) {
    const response = await http.request({ call: 'lookup', url: upstreamUrl(config.baseUrl, ['lookup'], { value: observable.value, key: credentials.key }) });
    if (response.status === 404) return {};
    if (response.status !== 200) throw statusError(response, 'Keyed');
    return { verdicts: [buildVerdict(observable, 'malicious', { start_time: now.toISOString() })] };
  },
});
