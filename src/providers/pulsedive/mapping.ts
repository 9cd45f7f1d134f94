// Pulsedive answers → CTIM. Pure functions: no I/O, tested straight from fixtures.
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
  parseUtcTime,
  utcIsoTime,
  stableId,
  truncate,
  type Indicator,
  type Level,
  type ObservedRelation,
  type Sighting,
  type ValidTime,
} from '../../core/ctim.js';
import { pruneRelationships, type ObservableResult } from '../../core/bundle.js';
import { keyError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import type { Feed, InfoAnswer, LinksAnswer, RiskFactor, Threat } from './answers.js';
import { DISPLAY_NAME } from './display-name.js';
import { feedPage, indicatorPage, threatPage } from './pages.js';
import { isRetired, pulsediveRiskToDisposition, severityOfRisk, type RiskAssessment } from './risk.js';

/** How long a verdict holds when Pulsedive has not retired the indicator. */
export const VALIDITY_DAYS = 91;
/** Active DNS links older than this are history, not a current resolution. */
export const ACTIVE_DNS_RELEVANCE_DAYS = 90;
export const RELATION_ORIGIN = `${DISPLAY_NAME} Enrichment Module`;
export const ACTIVE_DNS_TITLE = 'Active DNS';

export interface MappingOptions {
  /** Pulsedive's web UI base, for source_uri. */
  uiUrl: string;
  /** The request's one "now". */
  now: Date;
  entitiesLimit: number;
}

function optionalStamp(text: string | null | undefined): Date | undefined {
  return typeof text === 'string' ? parseUtcTime(text) : undefined;
}

function requiredStamp(text: string): string {
  const iso = utcIsoTime(text);
  if (iso === undefined) throw keyError(DISPLAY_NAME);
  return iso;
}

export function assessRisk(info: InfoAnswer): RiskAssessment {
  return pulsediveRiskToDisposition(info.risk, isRetired(info.retired));
}

/**
 * From when Pulsedive last saw the indicator to when it retired it, or for VALIDITY_DAYS when it
 * is still active. An indicator never seen falls back to when it was added, then to now.
 */
export function verdictValidTime(info: InfoAnswer, now: Date): Required<ValidTime> {
  const start = optionalStamp(info.stamp_seen) ?? optionalStamp(info.stamp_added) ?? now;
  const end = optionalStamp(info.stamp_retired) ?? addDays(start, VALIDITY_DAYS);
  return { start_time: formatTime(start), end_time: formatTime(end) };
}

/** Deliberate: the verdict only. */
export function mapVerdict(info: InfoAnswer, observable: Observable, now: Date): ObservableResult {
  return { verdicts: [buildVerdict(observable, assessRisk(info).disposition, verdictValidTime(info, now))] };
}

/** `Feed: <name>` without Pulsedive's own word "Feed" in the name (`Zeus Feed` → `Feed: Zeus`). */
export function feedTitle(name: string): string {
  const stripped = name.replace(/\bFeed\b/g, ' ').replace(/\s+/g, ' ').trim();
  return `Feed: ${stripped === '' ? name.trim() : stripped}`;
}

/** A sighting with the indicator it is a sighting of (or a member of), before the limit. */
interface Finding {
  sighting: Sighting;
  indicator: Indicator;
  relationshipType: 'sighting-of' | 'member-of';
}

interface FindingContext {
  observable: Observable;
  options: MappingOptions;
  validTime: Required<ValidTime>;
  severity: Level;
  indicatorUri: string;
}

function sighting(context: FindingContext, observedAt: string, title: string, extra: Record<string, unknown>): Sighting {
  return buildSighting({
    confidence: 'Medium',
    count: 1,
    observedTime: { start_time: observedAt, end_time: observedAt },
    observables: [observableRef(context.observable)],
    title: truncate(title, MAX_TITLE),
    description: truncate(title, MAX_DESCRIPTION),
    source: DISPLAY_NAME,
    ...extra,
  });
}

function indicator(fields: { id?: string; producer: string; validTime: ValidTime; title: string; [extra: string]: unknown }): Indicator {
  const { title, ...rest } = fields;
  return buildIndicator({
    ...rest,
    title: truncate(title, MAX_TITLE),
    short_description: truncate(title, MAX_TITLE),
    source: DISPLAY_NAME,
    tlp: 'white',
  });
}

function tags(category: string | null | undefined): Record<string, unknown> {
  return category === null || category === undefined || category === '' ? {} : { tags: [category] };
}

// A risk factor belongs to this observable (its time is the observable's), so its indicator is
// per observable; threats and feeds are Pulsedive objects shared by many, with stable ids.
function riskFactorFinding(context: FindingContext, riskFactor: RiskFactor): Finding {
  const title = riskFactor.description;
  return {
    sighting: sighting(context, context.validTime.start_time, title, { severity: context.severity, source_uri: context.indicatorUri }),
    indicator: indicator({ producer: DISPLAY_NAME, validTime: context.validTime, title }),
    relationshipType: 'sighting-of',
  };
}

function threatFinding(context: FindingContext, threat: Threat): Finding {
  const title = `Threat: ${threat.name}`;
  const linked = requiredStamp(threat.stamp_linked);
  const uri = threatPage(context.options.uiUrl, threat.tid);
  const severity = severityOfRisk(threat.risk);
  return {
    sighting: sighting(context, linked, title, { severity: context.severity, source_uri: uri }),
    indicator: indicator({
      id: stableId('indicator', DISPLAY_NAME, 'threat', threat.tid),
      producer: DISPLAY_NAME,
      validTime: { start_time: linked },
      title,
      ...tags(threat.category),
      ...(severity === undefined ? {} : { severity }),
      source_uri: uri,
    }),
    relationshipType: 'sighting-of',
  };
}

function feedFinding(context: FindingContext, feed: Feed): Finding {
  const title = feedTitle(feed.name);
  const linked = requiredStamp(feed.stamp_linked);
  const uri = feedPage(context.options.uiUrl, feed.fid);
  const organization = feed.organization?.trim();
  return {
    sighting: sighting(context, linked, title, { source_uri: uri }),
    indicator: indicator({
      id: stableId('indicator', DISPLAY_NAME, 'feed', feed.fid),
      producer: organization === undefined || organization === '' ? DISPLAY_NAME : organization,
      validTime: { start_time: linked },
      title,
      ...tags(feed.category),
      source_uri: uri,
    }),
    relationshipType: 'member-of',
  };
}

/**
 * `Resolved_To` pairs from the Active DNS links seen within ACTIVE_DNS_RELEVANCE_DAYS: a domain
 * resolves to its linked ips; an ip is resolved to by its linked domains.
 */
export function activeDnsRelations(links: LinksAnswer, observable: Observable, now: Date): ObservedRelation[] {
  const since = formatTime(addDays(now, -ACTIVE_DNS_RELEVANCE_DAYS));
  const relations = new Map<string, ObservedRelation>();
  for (const link of links.activeDns) {
    if (requiredStamp(link.stamp_linked) <= since) continue;
    const linkType = link.type.toLowerCase();
    const linked = { type: linkType, value: link.indicator };
    let relation: ObservedRelation | undefined;
    if (observable.type === 'domain' && (linkType === 'ip' || linkType === 'ipv6')) {
      relation = { origin: RELATION_ORIGIN, relation: 'Resolved_To', source: observableRef(observable), related: linked };
    } else if ((observable.type === 'ip' || observable.type === 'ipv6') && linkType === 'domain') {
      relation = { origin: RELATION_ORIGIN, relation: 'Resolved_To', source: linked, related: observableRef(observable) };
    }
    if (relation !== undefined) relations.set(`${relation.source.value}\u0000${relation.related.value}`, relation);
  }
  return [...relations.values()];
}

/** Observe: verdict, judgement, and a sighting with its indicator per risk factor, threat and feed. */
export function mapObservation(info: InfoAnswer, links: LinksAnswer | undefined, observable: Observable, options: MappingOptions): ObservableResult {
  const { disposition, severity } = assessRisk(info);
  const validTime = verdictValidTime(info, options.now);
  const indicatorUri = indicatorPage(options.uiUrl, info.iid);
  const judgement = buildJudgement({
    observable,
    disposition,
    source: DISPLAY_NAME,
    validTime,
    confidence: 'Medium',
    severity,
    priority: 85,
    tlp: 'white',
    source_uri: indicatorUri,
  });
  const verdict = buildVerdict(observable, disposition, validTime, judgement.id);

  const context: FindingContext = { observable, options, validTime, severity, indicatorUri };
  const findings = [
    ...(info.riskfactors ?? []).map((riskFactor) => riskFactorFinding(context, riskFactor)),
    ...(info.threats ?? []).map((threat) => threatFinding(context, threat)),
    ...(info.feeds ?? []).map((feed) => feedFinding(context, feed)),
  ];
  const sightings = findings.map((finding) => finding.sighting);
  const relations = links === undefined ? [] : activeDnsRelations(links, observable, options.now);
  if (relations.length > 0) sightings.push(sighting(context, validTime.start_time, ACTIVE_DNS_TITLE, { relations, source_uri: indicatorUri }));

  // The limit keeps the newest sightings, then the indicators those sightings point at, so a
  // sighting and its indicator are kept or dropped together.
  const keptSightings = newest(sightings, options.entitiesLimit, (item) => item.observed_time.start_time);
  const kept = new Set(keptSightings.map((item) => item.id));
  const keptFindings = findings.filter((finding) => kept.has(finding.sighting.id));
  const indicators = new Map<string, Indicator>();
  for (const finding of keptFindings) if (!indicators.has(finding.indicator.id)) indicators.set(finding.indicator.id, finding.indicator);

  return pruneRelationships({
    verdicts: [verdict],
    judgements: [judgement],
    indicators: newest([...indicators.values()], options.entitiesLimit, (item) => item.valid_time.start_time),
    sightings: keptSightings,
    relationships: keptFindings.map((finding) =>
      buildRelationship(finding.relationshipType, finding.sighting, finding.indicator, { source: DISPLAY_NAME, tlp: 'white' }),
    ),
  });
}
