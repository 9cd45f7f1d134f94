// The per-provider summary and the consensus of the enrichment answer: pure functions from a
// module's observe and refer answers (the relay's `Answer`) to the spec's fields. No I/O.
import type { BundleData } from '../core/bundle.js';
import { DISPOSITIONS, type DispositionNumber } from '../core/ctim.js';
import type { ErrorDocument } from '../core/errors.js';
import type { ReferLink } from '../core/provider.js';
import type { Answer } from '../core/relay.js';
import type { ConsensusVerdict, EntityCounts, ProviderError, ProviderLink, ProviderResult, ProviderVerdict } from './types.js';

export const MAX_TITLES = 5;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function providerError(document: ErrorDocument): ProviderError {
  return { code: document.code, message: document.message };
}

const DISPOSITION_BY_NUMBER = new Map<number, ProviderVerdict>(
  Object.values(DISPOSITIONS).map(([disposition, name]) => [disposition, { disposition, disposition_name: name }]),
);

/** The provider's CTIM verdict for the observable, when it gave one. */
function verdictOf(data: BundleData): ProviderVerdict | undefined {
  const verdict = data.verdicts?.docs[0];
  return verdict === undefined ? undefined : DISPOSITION_BY_NUMBER.get(verdict.disposition);
}

function countsOf(data: BundleData): EntityCounts {
  return {
    judgements: data.judgements?.docs.length ?? 0,
    sightings: data.sightings?.docs.length ?? 0,
    indicators: data.indicators?.docs.length ?? 0,
    relationships: data.relationships?.docs.length ?? 0,
  };
}

/** Sightings say what was seen, indicators what it belongs to, judgements why it is judged. */
function titlesOf(data: BundleData): string[] {
  const titles = new Set<string>();
  const add = (value: unknown): boolean => {
    const title = text(value);
    if (title !== undefined) titles.add(title);
    return titles.size >= MAX_TITLES;
  };
  for (const sighting of data.sightings?.docs ?? []) if (add(sighting.title)) return [...titles];
  for (const indicator of data.indicators?.docs ?? []) if (add(indicator.title)) return [...titles];
  for (const judgement of data.judgements?.docs ?? []) if (add(judgement.reason)) return [...titles];
  return [...titles];
}

/** The span of the sightings' observed times, as ISO strings. */
function seenSpan(data: BundleData): { first_seen?: string; last_seen?: string } {
  let first: number | undefined;
  let last: number | undefined;
  for (const sighting of data.sightings?.docs ?? []) {
    for (const value of [sighting.observed_time?.start_time, sighting.observed_time?.end_time]) {
      if (typeof value !== 'string') continue;
      const time = Date.parse(value);
      if (Number.isNaN(time)) continue;
      if (first === undefined || time < first) first = time;
      if (last === undefined || time > last) last = time;
    }
  }
  if (first === undefined || last === undefined) return {};
  return { first_seen: new Date(first).toISOString(), last_seen: new Date(last).toISOString() };
}

function linksOf(refer: Answer | undefined): ProviderLink[] {
  if (!Array.isArray(refer?.data)) return [];
  const links: ProviderLink[] = [];
  for (const link of refer.data as ReferLink[]) {
    const url = text(link.url);
    if (url !== undefined) links.push({ title: text(link.title) ?? url, url });
  }
  return links;
}

/** One provider's result for one observable, from its observe and refer answers. */
export function summariseProvider(
  provider: { id: string; name: string },
  observe: Answer,
  refer: Answer | undefined,
  options: { ctim: boolean },
): ProviderResult {
  const { id, name } = provider;
  const observeError = observe.errors?.[0];
  if (observeError !== undefined && observe.data === undefined) return { id, name, status: 'error', error: providerError(observeError) };
  const data = (observe.data ?? {}) as BundleData;
  const verdict = verdictOf(data);
  const referError = refer?.errors?.[0] ?? observeError;
  return {
    id,
    name,
    status: 'ok',
    ...(verdict === undefined ? {} : { verdict }),
    counts: countsOf(data),
    titles: titlesOf(data),
    ...seenSpan(data),
    links: linksOf(refer),
    ...(options.ctim ? { ctim: data } : {}),
    ...(referError === undefined ? {} : { error: providerError(referError) }),
  };
}

// Most severe first. Common is benign: counted and ranked with Clean.
const SEVERITY: Record<DispositionNumber, number> = { 2: 4, 3: 3, 1: 2, 4: 2, 5: 1 };

/**
 * The most severe disposition any provider gave (Malicious > Suspicious > Clean > Unknown), with
 * how many providers gave each and how many answered; `5 Unknown` when none gave a verdict.
 */
export function consensusOf(results: readonly ProviderResult[]): ConsensusVerdict {
  const tally = { malicious: 0, suspicious: 0, clean: 0, unknown: 0, answered: 0 };
  let top: DispositionNumber = 5;
  for (const result of results) {
    if (result.status !== 'ok') continue;
    tally.answered += 1;
    const disposition = result.verdict?.disposition ?? 5;
    if (disposition === 2) tally.malicious += 1;
    else if (disposition === 3) tally.suspicious += 1;
    else if (disposition === 1 || disposition === 4) tally.clean += 1;
    else tally.unknown += 1;
    if (SEVERITY[disposition] > SEVERITY[top]) top = disposition;
  }
  // A Common verdict reads as Clean in the consensus: the counts hold both.
  const shown = top === 4 ? 1 : top;
  const verdict = DISPOSITION_BY_NUMBER.get(shown) as ProviderVerdict;
  return { ...verdict, ...tally };
}
