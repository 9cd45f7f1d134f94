// OTX answers → CTIM. Pure functions: no I/O, tested straight from fixtures.
// A pulse is a collection of observables, so each pulse holding the observable becomes an
// indicator (the pulse, one stable id per pulse), a sighting of the observable in it, and a
// `member-of` relationship from the sighting to the indicator.
import {
  MAX_DESCRIPTION,
  MAX_TITLE,
  buildIndicator,
  buildRelationship,
  buildSighting,
  newest,
  observableRef,
  utcIsoTime,
  stableId,
  truncate,
  type Indicator,
  type ObservedTime,
  type Relationship,
  type Sighting,
  type ValidTime,
} from '../../core/ctim.js';
import { pruneRelationships, type ObservableResult } from '../../core/bundle.js';
import { keyError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import type { ObservableType } from '../../core/validators.js';
import type { GeneralAnswer, Pulse, PulseIndicator } from './answers.js';
import { DISPLAY_NAME } from './display-name.js';

/** CTIM's `short_description` is a MedString. */
const MAX_SHORT_DESCRIPTION = 2048;
const TLP_VALUES = new Set(['red', 'amber', 'green', 'white']);

/** The section of `/api/v1/indicators/<section>/<value>/general` for each type; email has none. */
const GENERAL_SECTIONS: Partial<Record<ObservableType, string>> = {
  ip: 'IPv4',
  ipv6: 'IPv6',
  domain: 'domain',
  url: 'url',
  md5: 'file',
  sha1: 'file',
  sha256: 'file',
};

export function generalSection(observable: Observable): string | undefined {
  return GENERAL_SECTIONS[observable.type];
}

/** One pulse holding the observable, with the observable's own entry in it when it was found. */
export interface PulseFinding {
  pulse: Pulse;
  /** Undefined when the search ran out of calls or time (or OTX did not list it): the pulse's own times stand in. */
  indicator: PulseIndicator | undefined;
}

/**
 * The pulses worth searching: those whose indicator types include the observable's own type
 * (OTX also lists pulses that only relate to it), most recently modified first, so the call
 * budget goes to the pulses most likely to survive the entities limit.
 */
export function pulsesHoldingObservable(answer: GeneralAnswer): Pulse[] {
  const type = answer.baseIndicatorType;
  if (type === undefined) return [];
  const pulses = answer.pulses.filter((pulse) => Object.hasOwn(pulse.indicator_type_counts, type));
  return newest(pulses, pulses.length, (pulse) => pulseTime(pulse.modified ?? pulse.created));
}

const CASE_INSENSITIVE: ReadonlySet<ObservableType> = new Set(['domain', 'md5', 'sha1', 'sha256', 'ipv6']);

/** Whether an entry of a pulse's indicator list is this observable (hashes and host names ignore case). */
export function matchesObservable(observable: Observable, listed: string): boolean {
  if (CASE_INSENSITIVE.has(observable.type)) return listed.toLowerCase() === observable.value.toLowerCase();
  return listed === observable.value;
}

export function pulseUrl(baseUrl: string, pulseId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/pulse/${encodeURIComponent(pulseId)}`;
}

/** OTX times are UTC without a zone (`2023-07-19T14:02:11`, sometimes with microseconds). */
function otxTime(text: string): string {
  const iso = utcIsoTime(text);
  if (iso === undefined) throw keyError(DISPLAY_NAME);
  return iso;
}

function pulseTime(text: string): string {
  return utcIsoTime(text) ?? '';
}

interface FindingTimes {
  observed: ObservedTime;
  valid: ValidTime;
}

function findingTimes({ pulse, indicator }: PulseFinding): FindingTimes {
  if (indicator !== undefined) {
    const created = otxTime(indicator.created);
    const expiration = indicator.expiration == null || indicator.expiration === '' ? undefined : otxTime(indicator.expiration);
    return {
      observed: { start_time: created, end_time: created },
      valid: expiration === undefined ? { start_time: created } : { start_time: created, end_time: expiration },
    };
  }
  // The observable was added to the pulse some time between its creation and its last change.
  const created = otxTime(pulse.created);
  const modified = pulse.modified == null || pulse.modified === '' ? created : otxTime(pulse.modified);
  return { observed: { start_time: created, end_time: modified }, valid: { start_time: created } };
}

function tlpOf(pulse: Pulse): { tlp?: string } {
  const tlp = pulse.TLP?.toLowerCase();
  return tlp !== undefined && TLP_VALUES.has(tlp) ? { tlp } : {};
}

interface MappedFindings {
  indicators: Indicator[];
  sightings: Sighting[];
  relationships: Relationship[];
}

/** The newest findings, as many as the entities limit keeps, with their times. */
function keptFindings(findings: readonly PulseFinding[], entitiesLimit: number): { finding: PulseFinding; times: FindingTimes }[] {
  const timed = findings.map((finding) => ({ finding, times: findingTimes(finding) }));
  return newest(timed, entitiesLimit, (entry) => entry.times.observed.start_time);
}

function mapFinding(observable: Observable, { finding, times }: { finding: PulseFinding; times: FindingTimes }, baseUrl: string, out: MappedFindings): void {
  const { indicators, sightings, relationships } = out;
  const { pulse } = finding;
  const description = pulse.description ?? '';
  const common = {
    source: DISPLAY_NAME,
    source_uri: pulseUrl(baseUrl, pulse.id),
    external_ids: [pulse.id],
    title: truncate(pulse.name, MAX_TITLE),
    ...tlpOf(pulse),
  };
  const indicator = buildIndicator({
    id: stableId('indicator', 'otx-pulse', pulse.id),
    producer: pulse.author.username,
    validTime: times.valid,
    ...common,
    confidence: 'High',
    short_description: truncate(description, MAX_SHORT_DESCRIPTION),
    tags: (pulse.tags ?? []).map((tag) => truncate(tag, MAX_TITLE)),
  });
  const sighting = buildSighting({
    confidence: 'High',
    observedTime: times.observed,
    count: 1,
    ...common,
    description: truncate(description, MAX_DESCRIPTION),
    internal: false,
    observables: [observableRef(observable)],
  });
  indicators.push(indicator);
  sightings.push(sighting);
  relationships.push(buildRelationship('member-of', sighting, indicator, { source: DISPLAY_NAME }));
}

export function mapPulseFindings(
  observable: Observable,
  findings: readonly PulseFinding[],
  options: { baseUrl: string; entitiesLimit: number },
): ObservableResult {
  const out: MappedFindings = { indicators: [], sightings: [], relationships: [] };
  for (const entry of keptFindings(findings, options.entitiesLimit)) mapFinding(observable, entry, options.baseUrl, out);
  return pruneRelationships(out);
}

/** Findings mapped per slice of the event loop: an address in 1000 pulses is thousands of entities. */
const FINDINGS_PER_TURN = 100;

/** mapPulseFindings, awaiting `nextTurn` between slices of findings so that other requests are served meanwhile. */
export async function mapPulseFindingsInTurns(
  observable: Observable,
  findings: readonly PulseFinding[],
  options: { baseUrl: string; entitiesLimit: number },
  nextTurn: (() => Promise<void>) | undefined,
): Promise<ObservableResult> {
  if (nextTurn === undefined || findings.length <= FINDINGS_PER_TURN) return mapPulseFindings(observable, findings, options);
  const kept = keptFindings(findings, options.entitiesLimit);
  const out: MappedFindings = { indicators: [], sightings: [], relationships: [] };
  for (let start = 0; start < kept.length; start += FINDINGS_PER_TURN) {
    await nextTurn();
    for (const entry of kept.slice(start, start + FINDINGS_PER_TURN)) mapFinding(observable, entry, options.baseUrl, out);
  }
  return pruneRelationships(out);
}
