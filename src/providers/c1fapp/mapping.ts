// C1fApp records → CTIM. Pure functions: no I/O, tested straight from fixtures.
// Per record a sighting; per distinct feed one indicator (a stable id, so Threat Response merges
// the feed across requests); `member-of` from each sighting to its feed's indicator.
import type { ObservableResult } from '../../core/bundle.js';
import {
  MAX_TITLE,
  buildIndicator,
  buildRelationship,
  buildSighting,
  formatTime,
  newest,
  observableRef,
  stableId,
  truncate,
  type Indicator,
  type Level,
  type Relationship,
  type Sighting,
} from '../../core/ctim.js';
import { pruneRelationships } from '../../core/bundle.js';
import type { Observable } from '../../core/observables.js';
import { DISPLAY_NAME } from './display-name.js';
import type { C1fappRecord } from './lookup-answer.js';
import { recordRelations } from './record-relations.js';
import { perObject } from '../../core/memo.js';

export const SIGHTING_DESCRIPTION = 'Seen on C1fApp feed';

/** C1fApp's 0–100 confidence in CTIM's words: 0–25 Low, 26–79 Medium, 80–100 High. */
export function confidenceLevel(confidence: number | string): Level {
  const value = typeof confidence === 'number' ? confidence : confidence.trim() === '' ? NaN : Number(confidence);
  if (!Number.isFinite(value) || value < 0 || value > 100) return 'Unknown';
  if (value < 26) return 'Low';
  if (value < 80) return 'Medium';
  return 'High';
}

/** The longest of the comma-separated URLs in `source[0]`: the most specific page. */
export function longestSource(sources: string): string | undefined {
  let longest: string | undefined;
  for (const part of sources.split(',')) {
    const candidate = part.trim();
    if (candidate !== '' && (longest === undefined || candidate.length > longest.length)) longest = candidate;
  }
  return longest;
}

export function feedIndicatorId(feedLabel: string): string {
  return stableId('indicator', 'c1fapp', 'feed', feedLabel);
}

// Records of a cached answer come back as the same objects (see recordRefs): formatted once.
const reportedTime = perObject((record: C1fappRecord): string => formatTime(record.reportedAt));

function buildRecordSighting(record: C1fappRecord, observable: Observable): Sighting {
  const time = reportedTime(record);
  const sourceUri = longestSource(record.sources);
  return buildSighting({
    confidence: confidenceLevel(record.confidence),
    observedTime: { start_time: time, end_time: time },
    source: DISPLAY_NAME,
    ...(sourceUri === undefined ? {} : { source_uri: sourceUri }),
    description: SIGHTING_DESCRIPTION,
    observables: [observableRef(observable)],
    relations: recordRelations(record, observable),
  });
}

/** One feed's indicator, from every record of that feed in the answer (`records` newest first). */
function buildFeedIndicator(feedLabel: string, records: readonly C1fappRecord[]): Indicator {
  const newestRecord = records[0];
  const earliest = records[records.length - 1];
  const tags = [...new Set(records.flatMap((record) => record.assessments.map((tag) => tag.trim())).filter((tag) => tag !== ''))];
  return buildIndicator({
    id: feedIndicatorId(feedLabel),
    producer: DISPLAY_NAME,
    validTime: earliest === undefined ? {} : { start_time: reportedTime(earliest) },
    source: DISPLAY_NAME,
    title: truncate(`Feed: ${feedLabel}`, MAX_TITLE),
    short_description: feedLabel,
    tags,
    confidence: newestRecord === undefined ? 'Unknown' : confidenceLevel(newestRecord.confidence),
    tlp: 'white',
  });
}

/**
 * The records of one observable as sightings, feed indicators and `member-of` relationships:
 * newest first by `reportime`, at most `entitiesLimit` of each entity type.
 */
export function mapRecords(records: readonly C1fappRecord[], observable: Observable, entitiesLimit: number): ObservableResult {
  if (records.length === 0) return {};
  const ordered = newest(records, records.length, reportedTime);

  const recordsByFeed = new Map<string, C1fappRecord[]>();
  for (const record of ordered) {
    const feedRecords = recordsByFeed.get(record.feedLabel) ?? [];
    feedRecords.push(record);
    recordsByFeed.set(record.feedLabel, feedRecords);
  }
  const indicatorsByFeed = new Map<string, Indicator>();
  for (const [feedLabel, feedRecords] of recordsByFeed) indicatorsByFeed.set(feedLabel, buildFeedIndicator(feedLabel, feedRecords));

  const sightings: Sighting[] = [];
  const relationships: Relationship[] = [];
  for (const record of ordered.slice(0, entitiesLimit)) {
    const sighting = buildRecordSighting(record, observable);
    sightings.push(sighting);
    const indicator = indicatorsByFeed.get(record.feedLabel);
    if (indicator !== undefined) relationships.push(buildRelationship('member-of', sighting, indicator, { source: DISPLAY_NAME }));
  }

  // Only the feeds of kept sightings, newest feed first; never more than the limit.
  const keptFeeds = new Set(ordered.slice(0, entitiesLimit).map((record) => record.feedLabel));
  const indicators = [...indicatorsByFeed.entries()]
    .filter(([feedLabel]) => keptFeeds.has(feedLabel))
    .map(([, indicator]) => indicator)
    .slice(0, entitiesLimit);

  return pruneRelationships({ sightings, indicators, relationships });
}
