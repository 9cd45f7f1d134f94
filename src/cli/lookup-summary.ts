// What the lookup table shows of one provider's answers for one observable: pure, no I/O.
import type { ErrorDocument } from '../core/errors.js';
import type { Observable } from '../core/observables.js';
import type { Answer } from '../core/relay.js';

export interface ProviderLookup {
  providerId: string;
  providerName: string;
  observable: Observable;
  /** Absent when the provider does not support the observable's type. */
  observe?: Answer;
  refer?: Answer;
}

export interface LookupSummary {
  providerName: string;
  supported: boolean;
  /** The verdict's disposition name; undefined when the provider gave none. */
  verdict: string | undefined;
  judgements: number;
  sightings: number;
  titles: string[];
  links: { title: string; url: string }[];
  errors: ErrorDocument[];
}

export const TOP_TITLES = 3;

interface Docs {
  count?: number;
  docs?: Record<string, unknown>[];
}

function docsOf(data: unknown, key: string): Record<string, unknown>[] {
  if (data === null || typeof data !== 'object') return [];
  const list = (data as Record<string, Docs | undefined>)[key];
  return Array.isArray(list?.docs) ? list.docs : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function summariseLookup(result: ProviderLookup): LookupSummary {
  const { observe, refer } = result;
  const summary: LookupSummary = {
    providerName: result.providerName,
    supported: observe !== undefined,
    verdict: undefined,
    judgements: 0,
    sightings: 0,
    titles: [],
    links: [],
    errors: [...(observe?.errors ?? []), ...(refer?.errors ?? [])],
  };
  if (observe === undefined) return summary;
  const data = observe.data;
  summary.verdict = text(docsOf(data, 'verdicts')[0]?.disposition_name);
  const judgements = docsOf(data, 'judgements');
  const sightings = docsOf(data, 'sightings');
  summary.judgements = judgements.length;
  summary.sightings = sightings.length;
  // Sightings say what was seen, indicators what it belongs to, judgements why it is judged.
  const candidates = [
    ...sightings.map((sighting) => text(sighting.title)),
    ...docsOf(data, 'indicators').map((indicator) => text(indicator.title)),
    ...judgements.map((judgement) => text(judgement.reason)),
  ];
  summary.titles = [...new Set(candidates.filter((title): title is string => title !== undefined))].slice(0, TOP_TITLES);
  if (Array.isArray(refer?.data)) {
    for (const link of refer.data as Record<string, unknown>[]) {
      const url = text(link.url);
      if (url !== undefined) summary.links.push({ title: text(link.title) ?? url, url });
    }
  }
  return summary;
}
