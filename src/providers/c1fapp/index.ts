// C1fApp (c1fapp.com): feed records for ips, domains and urls. No verdict data (deliberate
// answers `{"data": {}}`) and no public search page (refer answers `{"data": []}`).
import { z } from 'zod/v4';
import { defineProvider } from '../../core/provider.js';
import { setting } from '../../core/settings.js';
import { HEALTH_CHECK_VALUE, apiEndpoint, lookup } from './client.js';
import { DISPLAY_NAME } from './display-name.js';
import { mapRecords } from './mapping.js';

const settingsSchema = z.object({ C1FAPP_API_URL: setting.httpUrl('https://www.c1fapp.com/cifapp/api/') });
const credentialsSchema = z.object({ key: z.string().min(1) });

export const c1fapp = defineProvider({
  id: 'c1fapp',
  displayName: DISPLAY_NAME,
  supportedTypes: ['ip', 'domain', 'url'],
  credentialsSchema,
  settingsSchema: settingsSchema.transform((env) => ({ endpoint: apiEndpoint(env.C1FAPP_API_URL) })),

  async health({ http, config, credentials }) {
    await lookup(http, config.endpoint, credentials.key, HEALTH_CHECK_VALUE, 'health');
  },

  async observe({ http, config, credentials, entitiesLimit }, observable) {
    const records = await lookup(http, config.endpoint, credentials.key, observable.value);
    return mapRecords(records, observable, entitiesLimit);
  },
});
