// Collects the entities of one answer: keeps them per type, drops repeats of one stable id,
// and renders the contract's `{count, docs}` lists, leaving empty lists out.
import type { Indicator, Judgement, Relationship, Sighting, Verdict } from './ctim.js';
import type { RelayError } from './errors.js';

export interface ObservableResult {
  verdicts?: Verdict[];
  judgements?: Judgement[];
  indicators?: Indicator[];
  sightings?: Sighting[];
  relationships?: Relationship[];
  /** What could not be looked up although the rest could (a call refused by a rate limit): reported next to the data. */
  errors?: RelayError[];
}

export const BUNDLE_KEYS = ['verdicts', 'judgements', 'indicators', 'sightings', 'relationships'] as const;
export type BundleKey = (typeof BUNDLE_KEYS)[number];

export interface Docs<T> {
  count: number;
  docs: T[];
}
export type BundleData = { [K in BundleKey]?: Docs<NonNullable<ObservableResult[K]>[number]> };

export class Bundle {
  private readonly lists = {
    verdicts: [] as Verdict[],
    judgements: [] as Judgement[],
    indicators: [] as Indicator[],
    sightings: [] as Sighting[],
    relationships: [] as Relationship[],
  };
  private readonly ids = new Set<string>();

  add(result: ObservableResult): void {
    for (const key of BUNDLE_KEYS) {
      for (const entity of result[key] ?? []) {
        const id = 'id' in entity ? entity.id : undefined;
        if (id !== undefined) {
          if (this.ids.has(id)) continue;
          this.ids.add(id);
        }
        (this.lists[key] as unknown[]).push(entity);
      }
    }
  }

  /** Relationships whose source or target is not in this bundle: a mapping bug, never sent. */
  danglingRelationships(): Relationship[] {
    return this.lists.relationships.filter((rel) => !this.ids.has(rel.source_ref) || !this.ids.has(rel.target_ref));
  }

  toData(): BundleData {
    const data: BundleData = {};
    for (const key of BUNDLE_KEYS) {
      let docs: unknown[] = this.lists[key];
      // Only relationships can dangle; the lists are handed over as they are otherwise.
      if (key === 'relationships') {
        const dangling = new Set(this.danglingRelationships());
        if (dangling.size > 0) docs = docs.filter((entity) => !dangling.has(entity as Relationship));
      }
      if (docs.length > 0) (data as Record<string, Docs<unknown>>)[key] = { count: docs.length, docs };
    }
    return data;
  }
}

/**
 * Keeps relationships only between entities that survived the entities limit, so capping a
 * result never leaves a relationship pointing at nothing.
 */
export function pruneRelationships(result: ObservableResult): ObservableResult {
  const ids = new Set<string>();
  for (const key of ['judgements', 'indicators', 'sightings'] as const) for (const entity of result[key] ?? []) ids.add(entity.id);
  return {
    ...result,
    relationships: (result.relationships ?? []).filter((rel) => ids.has(rel.source_ref) && ids.has(rel.target_ref)),
  };
}
