// AlienVault OTX (otx.alienvault.com): the pulses that list an observable, as CTIM indicators,
// sightings and relationships. No verdicts (deliberate answers `{"data": {}}`).
import { z } from 'zod/v4';
import type { Observable } from '../../core/observables.js';
import { defineProvider } from '../../core/provider.js';
import { setting } from '../../core/settings.js';
import type { PulseIndicatorsPage } from './answers.js';
import { checkHealth, fetchGeneral, fetchPulseIndicatorsPage, type OtxCredentials } from './client.js';
import { DISPLAY_NAME } from './display-name.js';
import { keepFoundEntries, knownEntries } from './found-entries.js';
import { mapPulseFindingsInTurns, matchesObservable, pulsesHoldingObservable, type PulseFinding } from './mapping.js';
import { searchPulses } from './pulse-search.js';
import { referLinks } from './refer.js';

const settingsSchema = z.object({
  OTX_API_URL: setting.httpUrl('https://otx.alienvault.com'),
  /** Every upstream call one observable may cost, its `general` lookup included. */
  OTX_MAX_CALLS_PER_OBSERVABLE: setting.integer(1, 1000, 50),
  /**
   * Pulse pages of one observable in flight at once. As many as OTX_MAX_CALLS_PER_OBSERVABLE's
   * default allows, so every page the budget pays for goes out in the search's two rounds (three
   * round trips with `general`); UPSTREAM_CONCURRENCY still bounds the calls to OTX altogether.
   */
  OTX_PULSE_CONCURRENCY: setting.integer(1, 1000, 50),
  /** Indicators per page of a pulse's list: fewer calls for large pulses against larger answers. */
  OTX_PAGE_SIZE: setting.integer(1, 10_000, 10_000),
  /** How long one observable's pulse searches may run; unfinished pulses then keep their own times. */
  OTX_SEARCH_TIMEOUT_MS: setting.integer(0, 600_000, 8_000),
});

export interface OtxConfig {
  baseUrl: string;
  maxCallsPerObservable: number;
  pulseConcurrency: number;
  pageSize: number;
  searchTimeoutMs: number;
}

/** Where in a pulse's pages the observable was last found (see searchPulses). */
function pageHintKey(pulseId: string, observable: Observable): string {
  return `page\u0000${pulseId}\u0000${observable.type}\u0000${observable.value}`;
}

export const otx = defineProvider<OtxCredentials, OtxConfig>({
  id: 'otx',
  displayName: DISPLAY_NAME,
  supportedTypes: ['domain', 'email', 'md5', 'sha1', 'sha256', 'ip', 'ipv6', 'url'],
  credentialsSchema: z.object({ key: z.string().min(1) }),
  settingsSchema: settingsSchema.transform(
    (env): OtxConfig => ({
      baseUrl: env.OTX_API_URL,
      maxCallsPerObservable: env.OTX_MAX_CALLS_PER_OBSERVABLE,
      pulseConcurrency: env.OTX_PULSE_CONCURRENCY,
      pageSize: env.OTX_PAGE_SIZE,
      searchTimeoutMs: env.OTX_SEARCH_TIMEOUT_MS,
    }),
  ),

  health: ({ http, config, credentials }) => checkHealth(http, config.baseUrl, credentials),

  async observe({ http, config, credentials, entitiesLimit, signal, log, memo, nextTurn }, observable) {
    // OTX has no lookup for emails: refer only.
    const general = await fetchGeneral(http, config.baseUrl, credentials, observable);
    if (general === undefined) return {};
    const pulses = pulsesHoldingObservable(general);
    if (pulses.length === 0) return {};
    const known = knownEntries(general);
    const unknown = known === undefined ? pulses : pulses.filter((pulse) => !known.has(pulse.id));
    const searched =
      unknown.length === 0
        ? []
        : await searchPulses(unknown, {
            maxCalls: config.maxCallsPerObservable - 1,
            concurrency: config.pulseConcurrency,
            signal,
            timeoutMs: config.searchTimeoutMs,
            fetchPage: (pulseId, page) => fetchPulseIndicatorsPage(http, config.baseUrl, credentials, { pulseId, page, pageSize: config.pageSize }),
            matches: (listed) => matchesObservable(observable, listed),
            hintedPage: (pulseId) => {
              const page = memo?.get(pageHintKey(pulseId, observable));
              return page === undefined ? undefined : Number(page);
            },
            onFound: (pulseId, page) => memo?.set(pageHintKey(pulseId, observable), String(page)),
            onPageError: (pulse, error) => {
              if (!signal.aborted) log.warn({ module: 'otx', pulse: pulse.id, code: error.code }, 'OTX pulse search failed; the pulse keeps its own times');
            },
          });
    // The page answer each entry was found on.
    const foundOn = new Map<string, PulseIndicatorsPage>();
    for (const finding of searched) if (finding.foundOn !== undefined) foundOn.set(finding.pulse.id, finding.foundOn);
    keepFoundEntries(general, searched, foundOn);
    const searchedByPulse = new Map(searched.map((finding) => [finding.pulse, finding]));
    const findings = pulses.map((pulse): PulseFinding => searchedByPulse.get(pulse) ?? { pulse, indicator: known?.get(pulse.id) });
    return mapPulseFindingsInTurns(observable, findings, { baseUrl: config.baseUrl, entitiesLimit }, nextTurn);
  },

  refer: ({ config }, observable) => referLinks(config.baseUrl, observable),
});
