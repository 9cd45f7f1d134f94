// Pulsedive (pulsedive.com): risk, risk factors, threats, feeds and Active DNS of ips, domains and urls.
import { z } from 'zod/v4';
import { RelayError } from '../../core/errors.js';
import { defineProvider } from '../../core/provider.js';
import { setting } from '../../core/settings.js';
import { checkHealth, fetchInfo, fetchLinks } from './client.js';
import { DISPLAY_NAME } from './display-name.js';
import { mapObservation, mapVerdict } from './mapping.js';
import { browseLink, searchLink } from './refer.js';

const settingsSchema = z.object({
  PULSEDIVE_API_URL: setting.httpUrl('https://pulsedive.com/api/'),
  PULSEDIVE_UI_URL: setting.httpUrl('https://pulsedive.com/'),
});

export const pulsedive = defineProvider({
  id: 'pulsedive',
  displayName: DISPLAY_NAME,
  supportedTypes: ['ip', 'ipv6', 'domain', 'url'],
  credentialsSchema: z.object({ key: z.string().min(1) }),
  // Pulsedive's free tier allows about one call a second; as 60 a minute, an investigation's burst
  // of lookups still goes through at once (RATE_LIMIT_PULSEDIVE overrides it for paid keys).
  rateLimit: { requests: 60, perSeconds: 60 },
  settingsSchema: settingsSchema.transform((env) => ({ apiUrl: env.PULSEDIVE_API_URL, uiUrl: env.PULSEDIVE_UI_URL })),

  health: ({ http, config, credentials }) => checkHealth(http, config.apiUrl, credentials.key),

  async deliberate({ http, config, credentials, now }, observable) {
    const info = await fetchInfo(http, config.apiUrl, credentials.key, observable.value);
    return info === undefined ? {} : mapVerdict(info, observable, now);
  },

  async observe({ http, config, credentials, now, entitiesLimit }, observable) {
    // The links only for an indicator Pulsedive knows, after its info, as the original relay did:
    // an unknown value costs one call instead of two, and a known one a second round trip. Quota
    // matters more than 100 ms with a free tier of about one call a second (docs/benchmark.md).
    // A cached info answer comes back at once, so a warm known value is one round trip anyway.
    const info = await fetchInfo(http, config.apiUrl, credentials.key, observable.value);
    if (info === undefined) return {};
    const options = { uiUrl: config.uiUrl, now, entitiesLimit };
    let links;
    try {
      links = await fetchLinks(http, config.apiUrl, credentials.key, observable.value);
    } catch (error) {
      if (!(error instanceof RelayError) || error.code !== 'too many requests') throw error;
      // The info call is spent: its entities are answered without Active DNS, and the refusal is reported.
      return { ...mapObservation(info, undefined, observable, options), errors: [error] };
    }
    return mapObservation(info, links, observable, options);
  },

  async refer({ http, config, credentials, log }, observable) {
    const search = searchLink(config.uiUrl, observable);
    let info;
    try {
      info = await fetchInfo(http, config.apiUrl, credentials.key, observable.value);
    } catch (error) {
      // A bad key is worth telling; a provider hiccup only costs the browse link, never the search.
      if (error instanceof RelayError && error.code === 'authorization error') throw error;
      log.warn({ module: 'pulsedive', code: error instanceof RelayError ? error.code : 'unknown' }, 'refer lookup failed; search link only');
      return [search];
    }
    return info === undefined ? [search] : [search, browseLink(config.uiUrl, observable, info.iid)];
  },
  // The browse link exists only for indicators Pulsedive knows, which takes a lookup.
  referNeedsCredentials: true,
});
