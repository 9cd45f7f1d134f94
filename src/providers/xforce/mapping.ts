// X-Force answers → CTIM. Pure functions: no I/O, tested straight from fixtures.
import { BUNDLE_KEYS, pruneRelationships, type BundleKey, type ObservableResult } from '../../core/bundle.js';
import {
  MAX_DESCRIPTION,
  MAX_TITLE,
  addDays,
  buildIndicator,
  buildJudgement,
  buildRelationship,
  buildSighting,
  buildVerdict,
  formatTime,
  newest,
  observableRef,
  stableId,
  truncate,
  type Indicator,
  type Judgement,
  type ObservableRef,
  type ObservedRelation,
  type Relationship,
  type Sighting,
  type ValidTime,
  type Verdict,
} from '../../core/ctim.js';
import type { Observable } from '../../core/observables.js';
import { upstreamUrl } from '../../core/upstream.js';
import { isValidObservable } from '../../core/validators.js';
import type { Category, Collection, Report, Resolutions } from './answers.js';
import { xforceRiskAssessment, xforceScoreAssessment, type Assessment } from './assessment.js';
import { DISPLAY_NAME } from './display-name.js';
import { xforcePageUrl } from './refer.js';
import { perObject } from '../../core/memo.js';

export interface MappingOptions {
  /** X-Force Exchange's web UI, for source URIs. */
  uiUrl: string;
  /** The request's "now": investigation time and the start of every validity period. */
  now: Date;
}

export interface Observation {
  /** Undefined when X-Force knows nothing (400/404/406). */
  report?: Report | undefined;
  resolutions?: Resolutions | undefined;
  collections?: Collection[] | undefined;
}

export const VERDICT_VALID_DAYS = 30;
export const JUDGEMENT_VALID_DAYS = 7;
export const INDICATOR_VALID_DAYS = 30;
/** Files do not change their nature, so their verdicts hold until this far-away date. */
export const FILE_VERDICT_END = '2525-01-01T00:00:00.000Z';
const JUDGEMENT_PRIORITY = 85;
const RELATION_ORIGIN = `${DISPLAY_NAME} Enrichment Module`;
export const DNS_SIGHTING_TITLE = 'DNS Information';

function validFor(now: Date, days: number): ValidTime {
  return { start_time: formatTime(now), end_time: formatTime(addDays(now, days)) };
}

function reportAssessment(report: Report): Assessment {
  return report.kind === 'malware' ? xforceRiskAssessment(report.risk) : xforceScoreAssessment(report.score);
}

function verdictValidTime(report: Report, now: Date): ValidTime {
  return report.kind === 'malware' ? { start_time: formatTime(now), end_time: FILE_VERDICT_END } : validFor(now, VERDICT_VALID_DAYS);
}

export function mapVerdict(observable: Observable, report: Report, options: MappingOptions, judgementId?: string): Verdict {
  return buildVerdict(observable, reportAssessment(report).disposition, verdictValidTime(report, options.now), judgementId);
}

function judgement(observable: Observable, assessment: Assessment, options: MappingOptions, extra: Record<string, unknown>): Judgement {
  return buildJudgement({
    observable,
    disposition: assessment.disposition,
    source: DISPLAY_NAME,
    validTime: validFor(options.now, JUDGEMENT_VALID_DAYS),
    confidence: 'High',
    severity: assessment.severity,
    priority: JUDGEMENT_PRIORITY,
    ...extra,
  });
}

// The same observable's page is the source of most of its entities: built once per observable
// (and UI address, which comes from the settings).
const pageUrlsOf = perObject((_observable: Observable) => new Map<string, string>());

function pageUrl(observable: Observable, options: MappingOptions): string {
  const urls = pageUrlsOf(observable);
  let url = urls.get(options.uiUrl);
  if (url === undefined) urls.set(options.uiUrl, (url = xforcePageUrl(options.uiUrl, observable)));
  return url;
}

/** A sighting made at investigation time (the report's categories and the DNS information). */
function investigationSighting(observable: Observable, title: string, options: MappingOptions, extra: Record<string, unknown> = {}): Sighting {
  const now = formatTime(options.now);
  return buildSighting({
    confidence: 'High',
    observedTime: { start_time: now, end_time: now },
    source: DISPLAY_NAME,
    title: truncate(title, MAX_TITLE),
    internal: false,
    observables: [observableRef(observable)],
    source_uri: pageUrl(observable, options),
    ...extra,
  });
}

/**
 * A value as the original writes it: Python's `str()`, so a flag is `True`/`False` (a Threat
 * Response filter on the original's tag matches ours); numbers and strings as JavaScript writes them.
 */
function pythonStr(value: number | boolean | string): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/**
 * An X-Force category (`Spam`, `Botnet Command and Control Server`, …) is one provider object
 * shared by every observable in it, so its indicator has one stable id and no per-observable field.
 */
function categoryIndicator(kind: 'ip' | 'url', category: Category, options: MappingOptions): Indicator {
  return buildIndicator({
    id: stableId('indicator', DISPLAY_NAME, `${kind} category`, category.name),
    producer: DISPLAY_NAME,
    validTime: validFor(options.now, INDICATOR_VALID_DAYS),
    source: DISPLAY_NAME,
    confidence: 'High',
    title: truncate(category.name, MAX_TITLE),
    ...(category.description === undefined ? {} : { description: truncate(category.description, MAX_DESCRIPTION) }),
    // A url category's value is its flag; an ip category's value is a score, not a tag.
    ...(kind === 'url' ? { tags: [pythonStr(category.value)] } : {}),
  });
}

/**
 * ip/ipv6: the verdict from the overall score; per category a sighting, an indicator and a
 * judgement scored by the category's value / 10, with sighting → judgement → indicator `based-on`.
 * url/domain: the verdict and one judgement from `result.score`; per category a sighting and an
 * indicator joined by `sighting-of`. Files: the verdict and one judgement from `malware.risk`.
 */
export function mapReport(observable: Observable, report: Report, options: MappingOptions): ObservableResult {
  const sourceUri = pageUrl(observable, options);
  const sightings: Sighting[] = [];
  const indicators: Indicator[] = [];
  const relationships: Relationship[] = [];

  if (report.kind === 'ip') {
    const judgements: Judgement[] = [];
    for (const category of report.categories) {
      const sighting = investigationSighting(observable, category.name, options);
      const indicator = categoryIndicator('ip', category, options);
      const categoryScore = typeof category.value === 'number' ? category.value / 10 : null;
      const categoryJudgement = judgement(observable, xforceScoreAssessment(categoryScore), options, {
        reason: truncate(category.name, MAX_TITLE),
        source_uri: sourceUri,
      });
      sightings.push(sighting);
      indicators.push(indicator);
      judgements.push(categoryJudgement);
      relationships.push(buildRelationship('based-on', sighting, categoryJudgement), buildRelationship('based-on', categoryJudgement, indicator));
    }
    return { verdicts: [mapVerdict(observable, report, options)], judgements, sightings, indicators, relationships };
  }

  const overall = judgement(observable, reportAssessment(report), options, { source_uri: sourceUri });
  if (report.kind === 'url') {
    for (const category of report.categories) {
      const sighting = investigationSighting(observable, category.name, options);
      const indicator = categoryIndicator('url', category, options);
      sightings.push(sighting);
      indicators.push(indicator);
      relationships.push(buildRelationship('sighting-of', sighting, indicator));
    }
  }
  return { verdicts: [mapVerdict(observable, report, options, overall.id)], judgements: [overall], sightings, indicators, relationships };
}

function uniqueSorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function relation(source: ObservedRelation['source'], related: ObservedRelation['related']): ObservedRelation {
  return { origin: RELATION_ORIGIN, relation: 'Resolved_To', source, related };
}

function addressType(value: string): 'ip' | 'ipv6' | undefined {
  if (isValidObservable('ip', value)) return 'ip';
  if (isValidObservable('ipv6', value)) return 'ipv6';
  return undefined;
}

interface ValidRecords {
  addresses: ObservableRef[];
  domains: string[];
}

/**
 * The answer's addresses (a domain's) and domains (an ip's) that are valid observables, sorted;
 * checked once per answer object (a cached answer is the same object on every hit).
 */
const recordsOf = perObject(
  (resolutions: Resolutions): ValidRecords => ({
    addresses: uniqueSorted([...resolutions.a, ...resolutions.aaaa, ...resolutions.passiveAddressRecords]).flatMap((address) => {
      const type = addressType(address);
      return type === undefined ? [] : [{ type, value: address }];
    }),
    domains: uniqueSorted([...resolutions.reverse, ...resolutions.passiveAddressRecords]).filter((domain) => isValidObservable('domain', domain)),
  }),
);

/**
 * One `DNS Information` sighting whose relations are `Resolved_To` pairs: a domain → its live and
 * passive A/AAAA addresses; an ip ← the domains of its reverse DNS and passive records. Values that
 * are not valid for their type are left out (Threat Response would refuse the whole sighting).
 */
export function mapResolutions(observable: Observable, resolutions: Resolutions, options: MappingOptions): ObservableResult {
  const self = observableRef(observable);
  let relations: ObservedRelation[];
  let description: string;
  if (observable.type === 'domain') {
    relations = recordsOf(resolutions).addresses.map((address) => relation(self, { ...address }));
    description = `IP addresses that ${observable.value} resolves to`;
  } else if (observable.type === 'ip' || observable.type === 'ipv6') {
    relations = recordsOf(resolutions).domains.map((domain) => relation({ type: 'domain', value: domain }, self));
    description = `Domains that have resolved to ${observable.value}`;
  } else {
    return {};
  }
  if (relations.length === 0) return {};
  return {
    sightings: [investigationSighting(observable, DNS_SIGHTING_TITLE, options, { description: truncate(description, MAX_DESCRIPTION), relations })],
  };
}

export function collectionUrl(uiUrl: string, collection: Collection): string {
  const { origin, path } = upstreamUrl(uiUrl, ['collection', `${collection.title}-${collection.id}`]);
  return origin + path;
}

/**
 * Per collection holding the observable, newest first: a sighting (observed when the collection
 * was created) and the collection as an indicator with a stable id, joined by `member-of`.
 */
export function mapCollections(observable: Observable, collections: readonly Collection[], options: MappingOptions): ObservableResult {
  const sightings: Sighting[] = [];
  const indicators: Indicator[] = [];
  const relationships: Relationship[] = [];
  for (const collection of newest(collections, collections.length, (item) => item.created)) {
    const url = collectionUrl(options.uiUrl, collection);
    const references = {
      external_ids: [collection.id],
      external_references: [{ source_name: DISPLAY_NAME, external_id: collection.id, url }],
      source_uri: url,
    };
    const sighting = buildSighting({
      confidence: 'High',
      observedTime: { start_time: collection.created, end_time: collection.created },
      source: DISPLAY_NAME,
      title: truncate(`Contained in Collection: ${collection.title}`, MAX_TITLE),
      // Collections the token's owner made are the organisation's own intelligence.
      internal: collection.category === '1owned',
      observables: [observableRef(observable)],
      ...references,
    });
    const indicator = buildIndicator({
      id: stableId('indicator', DISPLAY_NAME, 'collection', collection.id),
      producer: collection.ownerName === '' ? DISPLAY_NAME : collection.ownerName,
      validTime: { start_time: collection.created },
      source: DISPLAY_NAME,
      confidence: 'High',
      title: truncate(collection.title, MAX_TITLE),
      ...references,
    });
    sightings.push(sighting);
    indicators.push(indicator);
    relationships.push(buildRelationship('member-of', sighting, indicator));
  }
  return { sightings, indicators, relationships };
}

/** At most `limit` sightings, indicators and judgements each, newest first; no dangling relationship. */
export function limitEntities(result: ObservableResult, limit: number): ObservableResult {
  const judgements = result.judgements ?? [];
  const indicators = result.indicators ?? [];
  const sightings = result.sightings ?? [];
  const limited: ObservableResult = {
    ...result,
    judgements: newest(judgements, limit, (item) => item.valid_time.start_time),
    indicators: newest(indicators, limit, (item) => item.valid_time.start_time),
    sightings: newest(sightings, limit, (item) => item.observed_time.start_time),
  };
  // Nothing left out, so every relationship still has both ends (the usual case).
  const cut = judgements.length > limit || indicators.length > limit || sightings.length > limit;
  return cut ? pruneRelationships(limited) : limited;
}

function withoutEmptyLists(result: ObservableResult): ObservableResult {
  const kept: ObservableResult = {};
  for (const key of BUNDLE_KEYS) {
    const list = result[key];
    if (list !== undefined && list.length > 0) (kept as Record<BundleKey, unknown[]>)[key] = list;
  }
  return kept;
}

/** Everything one observe of one observable found, capped by the entities limit. */
export function mapObservation(observable: Observable, observation: Observation, options: MappingOptions & { entitiesLimit: number }): ObservableResult {
  const parts: ObservableResult[] = [
    observation.report === undefined ? {} : mapReport(observable, observation.report, options),
    observation.resolutions === undefined ? {} : mapResolutions(observable, observation.resolutions, options),
    observation.collections === undefined ? {} : mapCollections(observable, observation.collections, options),
  ];
  const merged = { verdicts: [], judgements: [], indicators: [], sightings: [], relationships: [] } as Required<Omit<ObservableResult, 'errors'>>;
  for (const part of parts) for (const key of BUNDLE_KEYS) for (const entity of part[key] ?? []) (merged[key] as unknown[]).push(entity);
  return withoutEmptyLists(limitEntities(merged, options.entitiesLimit));
}
