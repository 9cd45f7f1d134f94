// X-Force answers, parsed with minimal schemas: only the fields the mapping reads are checked,
// everything else is tolerated. A field the mapping cannot do without is the contract's key error.
import { z } from 'zod/v4';
import { utcIsoTime } from '../../core/ctim.js';
import { keyError } from '../../core/errors.js';
import type { ObservableType } from '../../core/validators.js';
import { DISPLAY_NAME } from './display-name.js';

/** The three X-Force report families: `ipr/`, `url/` (urls and domains) and `malware/`. */
export type ReportKind = 'ip' | 'url' | 'malware';

export function reportKind(type: ObservableType): ReportKind {
  if (type === 'ip' || type === 'ipv6') return 'ip';
  if (type === 'url' || type === 'domain') return 'url';
  return 'malware';
}

export interface Category {
  name: string;
  /** The category's value as X-Force gives it: a percentage for ips, a flag for urls. */
  value: number | boolean | string;
  description?: string;
}

export type Report =
  | { kind: 'ip'; score: number | null; categories: Category[] }
  | { kind: 'url'; score: number | null; categories: Category[] }
  | { kind: 'malware'; risk: string | null };

export interface Resolutions {
  /** Live A records (domains). */
  a: string[];
  /** Live AAAA records (domains). */
  aaaa: string[];
  /** Reverse DNS names (ips). */
  reverse: string[];
  /** Passive DNS values of A and AAAA records. */
  passiveAddressRecords: string[];
}

export interface Collection {
  id: string;
  title: string;
  /** ISO 8601 UTC. */
  created: string;
  /** `1owned`, `2shared`, `3public` or `4premier`. */
  category?: string;
  ownerName: string;
}

const categoryDescriptions = z.record(z.string(), z.unknown()).optional();

const ipReportSchema = z.object({
  score: z.number().nullable(),
  cats: z.record(z.string(), z.number()).optional(),
  categoryDescriptions,
});

const urlReportSchema = z.object({
  result: z.object({
    score: z.number().nullable(),
    cats: z.record(z.string(), z.union([z.boolean(), z.number(), z.string()])).optional(),
    categoryDescriptions,
  }),
});

const malwareReportSchema = z.object({
  malware: z.object({ risk: z.string().nullable().optional() }),
});

const resolveSchema = z.object({
  A: z.array(z.string()).optional(),
  AAAA: z.array(z.string()).optional(),
  RDNS: z.array(z.string()).optional(),
  Passive: z
    .object({ records: z.array(z.object({ value: z.string(), recordType: z.string() })).optional() })
    .optional(),
});

const linkageSchema = z.object({ linkedEntities: z.array(z.object({ type: z.string().optional() }).passthrough()).optional() });

const collectionSchema = z.object({
  id: z.string().min(1),
  title: z.string(),
  created: z.string(),
  category: z.string().optional(),
  owner: z.object({ name: z.string() }),
});

function parse<T>(schema: z.ZodType<T>, json: unknown): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw keyError(DISPLAY_NAME);
  return parsed.data;
}

function categories(cats: Record<string, number | boolean | string> | undefined, descriptions: Record<string, unknown> | undefined): Category[] {
  return Object.entries(cats ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => {
      const description = descriptions?.[name];
      return typeof description === 'string' && description !== '' ? { name, value, description } : { name, value };
    });
}

export function parseReport(kind: ReportKind, json: unknown): Report {
  switch (kind) {
    case 'ip': {
      const answer = parse(ipReportSchema, json);
      return { kind, score: answer.score, categories: categories(answer.cats, answer.categoryDescriptions) };
    }
    case 'url': {
      const { result } = parse(urlReportSchema, json);
      return { kind, score: result.score, categories: categories(result.cats, result.categoryDescriptions) };
    }
    case 'malware':
      return { kind, risk: parse(malwareReportSchema, json).malware.risk ?? null };
  }
}

export function parseResolutions(json: unknown): Resolutions {
  const answer = parse(resolveSchema, json);
  return {
    a: answer.A ?? [],
    aaaa: answer.AAAA ?? [],
    reverse: answer.RDNS ?? [],
    passiveAddressRecords: (answer.Passive?.records ?? [])
      .filter((record) => record.recordType === 'A' || record.recordType === 'AAAA')
      .map((record) => record.value),
  };
}

/** The collections (`casefile`s) among the linked entities; other linked kinds are not collections. */
export function parseCollections(json: unknown): Collection[] {
  const entities = parse(linkageSchema, json).linkedEntities ?? [];
  return entities
    .filter((entity) => entity.type === undefined || entity.type === 'casefile')
    .map((entity) => {
      const collection = parse(collectionSchema, entity);
      const created = utcIsoTime(collection.created);
      if (created === undefined) throw keyError(DISPLAY_NAME);
      return {
        id: collection.id,
        title: collection.title,
        created,
        ...(collection.category === undefined ? {} : { category: collection.category }),
        ownerName: collection.owner.name,
      };
    });
}
