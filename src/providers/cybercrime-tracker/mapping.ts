// CyberCrime Tracker answers → CTIM. Pure functions: no I/O, tested straight from fixtures.
import { addDays, buildJudgement, buildVerdict, formatTime } from '../../core/ctim.js';
import type { ObservableResult } from '../../core/bundle.js';
import { keyError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import type { ReferLink } from '../../core/provider.js';
import { upstreamUrl } from '../../core/upstream.js';

export const DISPLAY_NAME = 'CyberCrime Tracker';

export interface QueryAnswer {
  success?: boolean;
  message: string;
}

/** For a url, the part after `://` is what CyberCrime Tracker indexes; other values as they are. */
export function lookupValue(observable: Observable): string {
  if (observable.type !== 'url') return observable.value;
  const index = observable.value.indexOf('://');
  return index === -1 ? observable.value : observable.value.slice(index + 3);
}

export function parseQueryAnswer(json: unknown): QueryAnswer {
  if (json === null || typeof json !== 'object' || typeof (json as { message?: unknown }).message !== 'string') {
    throw keyError(DISPLAY_NAME);
  }
  return json as QueryAnswer;
}

/** `Malicious: Keitaro` → `Keitaro`; undefined when the message is not a malicious finding. */
export function maliciousFamily(answer: QueryAnswer): string | undefined {
  if (!answer.message.startsWith('Malicious')) return undefined;
  return answer.message.replace(/^Malicious:?\s*/, '').trim();
}

export function searchUrl(baseUrl: string, observable: Observable): string {
  const { origin, path } = upstreamUrl(baseUrl, ['index.php'], { search: lookupValue(observable) });
  return origin + path;
}

export function mapQueryAnswer(
  answer: QueryAnswer,
  observable: Observable,
  options: { baseUrl: string; now: Date; withJudgement: boolean },
): ObservableResult {
  const family = maliciousFamily(answer);
  if (family === undefined) return {};
  const validTime = { start_time: formatTime(options.now), end_time: formatTime(addDays(options.now, 7)) };
  if (!options.withJudgement) return { verdicts: [buildVerdict(observable, 'malicious', validTime)] };
  const judgement = buildJudgement({
    observable,
    disposition: 'malicious',
    source: DISPLAY_NAME,
    validTime,
    confidence: 'Low',
    severity: 'Medium',
    priority: 90,
    source_uri: searchUrl(options.baseUrl, observable),
    ...(family === '' ? {} : { reason: family }),
  });
  return { verdicts: [buildVerdict(observable, 'malicious', validTime, judgement.id)], judgements: [judgement] };
}

const TYPE_NAMES: Record<string, string> = { ip: 'IP', url: 'URL', domain: 'domain' };

export function referLink(baseUrl: string, observable: Observable): ReferLink {
  const name = TYPE_NAMES[observable.type] ?? observable.type;
  return {
    id: `ref-cybercrime-tracker-search-${observable.type}-${encodeURIComponent(observable.value)}`,
    title: `Search for this ${name}`,
    description: `Lookup this ${name} on ${DISPLAY_NAME}`,
    url: searchUrl(baseUrl, observable),
    categories: ['Search', DISPLAY_NAME],
  };
}
