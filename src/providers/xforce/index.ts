// IBM X-Force Exchange: reputation reports, DNS and collections of ips, domains, urls and files.
import { z } from 'zod/v4';
import { defineProvider } from '../../core/provider.js';
import { setting } from '../../core/settings.js';
import { checkHealth, fetchCollections, fetchReport, fetchResolutions, type XforceCall } from './client.js';
import { DISPLAY_NAME } from './display-name.js';
import { mapObservation, mapVerdict } from './mapping.js';
import { referLink } from './refer.js';

const settingsSchema = z.object({
  XFORCE_API_URL: setting.httpUrl('https://api.xforce.ibmcloud.com/'),
  XFORCE_UI_URL: setting.httpUrl('https://exchange.xforce.ibmcloud.com/'),
});

const credentialsSchema = z.object({ key: z.string().min(1), password: z.string().min(1) });

export const xforce = defineProvider({
  id: 'xforce',
  displayName: DISPLAY_NAME,
  supportedTypes: ['ip', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256'],
  credentialsSchema,
  settingsSchema: settingsSchema.transform((env) => ({ apiUrl: env.XFORCE_API_URL, uiUrl: env.XFORCE_UI_URL })),

  health: ({ http, config, credentials }) => checkHealth({ http, config, credentials }),

  async deliberate({ http, config, credentials, now }, observable) {
    const report = await fetchReport({ http, config, credentials }, observable);
    return report === undefined ? {} : { verdicts: [mapVerdict(observable, report, { uiUrl: config.uiUrl, now })] };
  },

  async observe({ http, config, credentials, now, entitiesLimit }, observable) {
    const call: XforceCall = { http, config, credentials };
    // The three lookups are independent: one round trip instead of three.
    const [report, resolutions, collections] = await Promise.all([
      fetchReport(call, observable),
      fetchResolutions(call, observable),
      fetchCollections(call, observable),
    ]);
    return mapObservation(observable, { report, resolutions, collections }, { uiUrl: config.uiUrl, now, entitiesLimit });
  },

  refer: ({ config }, observable) => [referLink(config.uiUrl, observable)],
});
