// CyberCrime Tracker (cybercrime-tracker.net): no credentials; a verdict when it lists a C2.
import { z } from 'zod/v4';
import { defineProvider } from '../../core/provider.js';
import { setting } from '../../core/settings.js';
import { checkHealth, queryObservable } from './client.js';
import { DISPLAY_NAME, mapQueryAnswer, referLink } from './mapping.js';

const settingsSchema = z.object({ CYBERCRIME_TRACKER_URL: setting.httpUrl('http://cybercrime-tracker.net/') });

export const cybercrimeTracker = defineProvider({
  id: 'cybercrime-tracker',
  displayName: DISPLAY_NAME,
  supportedTypes: ['ip', 'url', 'domain'],
  credentialsSchema: null,
  // No published limit, so no default bucket (RATE_LIMIT_CYBERCRIME_TRACKER sets one); its 429s
  // and Retry-After are honoured like every provider's. One bucket would be shared by every caller,
  // since there is no credential to tell them apart.
  settingsSchema: settingsSchema.transform((env) => ({ baseUrl: env.CYBERCRIME_TRACKER_URL })),

  health: ({ http, config }) => checkHealth(http, config.baseUrl),

  async deliberate({ http, config, now }, observable) {
    const answer = await queryObservable(http, config.baseUrl, observable);
    return mapQueryAnswer(answer, observable, { baseUrl: config.baseUrl, now, withJudgement: false });
  },

  async observe({ http, config, now }, observable) {
    const answer = await queryObservable(http, config.baseUrl, observable);
    return mapQueryAnswer(answer, observable, { baseUrl: config.baseUrl, now, withJudgement: true });
  },

  refer: ({ config }, observable) => [referLink(config.baseUrl, observable)],
});
