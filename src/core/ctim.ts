// CTIM entity builders shared by every module (github.com/threatgrid/ctim).
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { parse as parseUuid, v5 as uuidv5 } from 'uuid';
import type { Observable } from './observables.js';

/** One schema version for every entity of every module. */
export const CTIM_SCHEMA_VERSION = '1.1.3';

/** Namespace of the name-based (v5) ids, so the same provider object gets the same id every time. */
const STABLE_ID_NAMESPACE = '1d0a9c2e-56f3-4b8e-9f7e-2f6c1f0a7c11';
const STABLE_ID_BYTES = parseUuid(STABLE_ID_NAMESPACE);
// The same feeds, pulses and collections come back in request after request: each id is hashed once.
const stableIds = new LRUCache<string, string>({ max: 10_000 });

export const DISPOSITIONS = {
  clean: [1, 'Clean'],
  malicious: [2, 'Malicious'],
  suspicious: [3, 'Suspicious'],
  common: [4, 'Common'],
  unknown: [5, 'Unknown'],
} as const;
export type DispositionKey = keyof typeof DISPOSITIONS;
export type DispositionNumber = (typeof DISPOSITIONS)[DispositionKey][0];
export type DispositionName = (typeof DISPOSITIONS)[DispositionKey][1];

export type Level = 'Info' | 'Low' | 'Medium' | 'High' | 'None' | 'Unknown';
export type EntityType = 'verdict' | 'judgement' | 'indicator' | 'sighting' | 'relationship';

export interface ValidTime {
  start_time?: string;
  end_time?: string;
}
export interface ObservedTime {
  start_time: string;
  end_time?: string;
}
export interface ObservableRef {
  type: string;
  value: string;
}
export interface ObservedRelation {
  origin: string;
  relation: CtimRelation;
  source: ObservableRef;
  related: ObservableRef;
  origin_uri?: string;
}

/** A subset of CTIM's closed relation vocabulary (ctim/schemas/common.cljc): the ones we emit. */
export type CtimRelation = 'Resolved_To' | 'Contains' | 'Related_To';

export interface Verdict {
  type: 'verdict';
  disposition: DispositionNumber;
  disposition_name: DispositionName;
  observable: ObservableRef;
  valid_time: ValidTime;
  judgement_id?: string;
}

interface Entity {
  id: string;
  type: EntityType;
  schema_version: string;
  [field: string]: unknown;
}
export interface Judgement extends Entity {
  type: 'judgement';
  observable: ObservableRef;
  disposition: DispositionNumber;
  disposition_name: DispositionName;
  valid_time: ValidTime;
}
export interface Indicator extends Entity {
  type: 'indicator';
  producer: string;
  valid_time: ValidTime;
}
export interface Sighting extends Entity {
  type: 'sighting';
  count: number;
  confidence: Level;
  observed_time: ObservedTime;
}
export interface Relationship extends Entity {
  type: 'relationship';
  relationship_type: string;
  source_ref: string;
  target_ref: string;
}

export function transientId(type: EntityType): string {
  return `transient:${type}-${randomUUID()}`;
}

/** Same parts, same id, in every request: Threat Response merges entities by it. */
export function stableId(type: EntityType, ...parts: readonly (string | number)[]): string {
  const name = `${type}\u001e${parts.join('\u001f')}`;
  let id = stableIds.get(name);
  if (id === undefined) {
    id = `transient:${type}-${uuidv5(parts.join('\u001f'), STABLE_ID_BYTES)}`;
    stableIds.set(name, id);
  }
  return id;
}

// Every entity of a request is stamped with the same "now" and the same few periods from it.
const formattedTimes = new Map<number, string>();

export function formatTime(date: Date): string {
  const time = date.getTime();
  let iso = formattedTimes.get(time);
  if (iso === undefined) {
    iso = date.toISOString();
    if (formattedTimes.size >= 64) formattedTimes.clear();
    formattedTimes.set(time, iso);
  }
  return iso;
}

/** `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`, or ISO without a zone: all taken as UTC. */
export function parseUtcTime(text: string): Date | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let iso = trimmed.replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00';
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += 'Z';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

// Providers' answers repeat the same times (a pulse's, a feed's) in every lookup that meets them.
const isoTimes = new LRUCache<string, string>({ max: 10_000 });

/** `parseUtcTime` as an ISO string ending in `Z`, or undefined when the text is no time. */
export function utcIsoTime(text: string): string | undefined {
  let iso = isoTimes.get(text);
  if (iso === undefined) {
    const date = parseUtcTime(text);
    if (date === undefined) return undefined;
    iso = formatTime(date);
    isoTimes.set(text, iso);
  }
  return iso;
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

export function observableRef(observable: Observable): ObservableRef {
  return { type: observable.type, value: observable.value };
}

export function disposition(key: DispositionKey): { disposition: DispositionNumber; disposition_name: DispositionName } {
  const [number, name] = DISPOSITIONS[key];
  return { disposition: number, disposition_name: name };
}

export function buildVerdict(observable: Observable, key: DispositionKey, validTime: ValidTime, judgementId?: string): Verdict {
  return {
    type: 'verdict',
    ...disposition(key),
    observable: observableRef(observable),
    valid_time: validTime,
    ...(judgementId === undefined ? {} : { judgement_id: judgementId }),
  };
}

export interface JudgementFields {
  observable: Observable;
  disposition: DispositionKey;
  source: string;
  validTime: ValidTime;
  confidence: Level;
  severity: Level;
  priority: number;
  [extra: string]: unknown;
}

export function buildJudgement(fields: JudgementFields): Judgement {
  const { observable, disposition: key, source, validTime, confidence, severity, priority, ...extra } = fields;
  return {
    id: transientId('judgement'),
    type: 'judgement',
    schema_version: CTIM_SCHEMA_VERSION,
    source,
    observable: observableRef(observable),
    ...disposition(key),
    confidence,
    priority,
    severity,
    valid_time: validTime,
    ...extra,
  };
}

export function buildIndicator(fields: { id?: string; producer: string; validTime: ValidTime; [extra: string]: unknown }): Indicator {
  const { id, producer, validTime, ...extra } = fields;
  return {
    id: id ?? transientId('indicator'),
    type: 'indicator',
    schema_version: CTIM_SCHEMA_VERSION,
    producer,
    valid_time: validTime,
    ...extra,
  };
}

export function buildSighting(fields: {
  confidence: Level;
  observedTime: ObservedTime;
  count?: number;
  [extra: string]: unknown;
}): Sighting {
  const { confidence, observedTime, count, ...extra } = fields;
  return {
    id: transientId('sighting'),
    type: 'sighting',
    schema_version: CTIM_SCHEMA_VERSION,
    count: count ?? 1,
    confidence,
    observed_time: observedTime,
    ...extra,
  };
}

export function buildRelationship(
  relationshipType: 'sighting-of' | 'member-of' | 'based-on' | string,
  source: { id: string },
  target: { id: string },
  extra: Record<string, unknown> = {},
): Relationship {
  return {
    id: transientId('relationship'),
    type: 'relationship',
    schema_version: CTIM_SCHEMA_VERSION,
    relationship_type: relationshipType,
    source_ref: source.id,
    target_ref: target.id,
    ...extra,
  };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export const MAX_TITLE = 1024;
export const MAX_DESCRIPTION = 5000;

/** The newest `limit` items, by a time each item has (ISO strings compare correctly). */
export function newest<T>(items: readonly T[], limit: number, timeOf: (item: T) => string | undefined): T[] {
  // Plain code-unit order, not localeCompare: collation would ignore the punctuation of the times.
  return [...items]
    .sort((a, b) => {
      const first = timeOf(a) ?? '';
      const second = timeOf(b) ?? '';
      return first < second ? 1 : first > second ? -1 : 0;
    })
    .slice(0, limit);
}
