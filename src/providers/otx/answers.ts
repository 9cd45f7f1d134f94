// The parts of OTX's answers the module reads. Everything else in them is tolerated and ignored;
// a missing field the module relies on is the contract's `key error`.
import { z } from 'zod/v4';
import { keyError } from '../../core/errors.js';
import { DISPLAY_NAME } from './display-name.js';

export const pulseSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  description: z.string().nullish(),
  author: z.object({ username: z.string().min(1) }),
  tags: z.array(z.string()).nullish(),
  TLP: z.string().nullish(),
  created: z.string(),
  modified: z.string().nullish(),
  indicator_type_counts: z.record(z.string(), z.unknown()),
});

// A popular address is in hundreds or thousands of pulses: each is checked and copied by hand
// (pulse()), as pulseSchema would, not by zod, which cost milliseconds per answer of 1000 pulses.
const generalSchema = z.object({
  base_indicator: z.object({ type: z.string().optional() }).nullish(),
  pulse_info: z.object({ pulses: z.array(z.unknown()) }),
});

const isNullishString = (value: unknown): boolean => value === undefined || value === null || typeof value === 'string';

/** What pulseSchema makes of a pulse (the fields it names), or undefined when it would fail. */
export function pulse(entry: unknown): Pulse | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const { id, name, description, author, tags, TLP, created, modified, indicator_type_counts: counts } = entry as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || typeof name !== 'string' || typeof created !== 'string') return undefined;
  if (!isNullishString(description) || !isNullishString(TLP) || !isNullishString(modified)) return undefined;
  if (typeof author !== 'object' || author === null || Array.isArray(author)) return undefined;
  const username = (author as Record<string, unknown>).username;
  if (typeof username !== 'string' || username === '') return undefined;
  if (tags !== undefined && tags !== null && !(Array.isArray(tags) && tags.every((tag) => typeof tag === 'string'))) return undefined;
  if (typeof counts !== 'object' || counts === null || Array.isArray(counts)) return undefined;
  const checked: Pulse = { id, name, author: { username }, created, indicator_type_counts: { ...(counts as Record<string, unknown>) } };
  if (description !== undefined) checked.description = description as string | null;
  if (tags !== undefined) checked.tags = tags as string[] | null;
  if (TLP !== undefined) checked.TLP = TLP as string | null;
  if (modified !== undefined) checked.modified = modified as string | null;
  return checked;
}

export const pulseIndicatorSchema = z.object({
  indicator: z.string(),
  created: z.string(),
  expiration: z.string().nullish(),
});

// A page may list thousands of indicators: each entry is checked and copied by hand
// (pulseIndicator()), as pulseIndicatorSchema would, without zod's cost per entry, which was
// tens of milliseconds of one event-loop turn on a page of 10,000 (docs/limits.md).
const pulseIndicatorsPageSchema = z.object({
  results: z.array(z.unknown()),
  next: z.string().nullish(),
  // How many indicators the whole list holds (OTX's paging); tolerated when absent.
  count: z.number().nullish().catch(undefined),
});

export type Pulse = z.infer<typeof pulseSchema>;
export type PulseIndicator = z.infer<typeof pulseIndicatorSchema>;

/** `/api/v1/indicators/<section>/<value>/general`: the pulses that list the observable. */
export interface GeneralAnswer {
  /** OTX's own type of the observable (`IPv4`, `FileHash-SHA256`, `URL`, …); absent when OTX has no pulse. */
  baseIndicatorType: string | undefined;
  pulses: Pulse[];
  /** When the answer came from the in-memory cache: when it was stored there (see index.ts). */
  cachedAt?: number | undefined;
}

/** One page of `/api/v1/pulses/<id>/indicators`. */
export interface PulseIndicatorsPage {
  results: PulseIndicator[];
  /** Whether OTX has a next page (its `next` link is never followed: we build page URLs ourselves). */
  hasNext: boolean;
  /**
   * How many pages the list has, from its `count` and this page's size (a page with a next one is
   * full); undefined when OTX does not say, or on the last page.
   */
  pageCount?: number | undefined;
  /** As GeneralAnswer's. */
  cachedAt?: number | undefined;
}

/** Each entry as `check` makes it; one it rejects is the contract's `key error` for the whole answer. */
function everyChecked<T>(entries: readonly unknown[], check: (entry: unknown) => T | undefined): T[] {
  const checked: T[] = [];
  for (const entry of entries) {
    const one = check(entry);
    if (one === undefined) throw keyError(DISPLAY_NAME);
    checked.push(one);
  }
  return checked;
}

export function parseGeneralAnswer(json: unknown): GeneralAnswer {
  const parsed = generalSchema.safeParse(json);
  if (!parsed.success) throw keyError(DISPLAY_NAME);
  const baseIndicatorType = parsed.data.base_indicator?.type;
  const pulses = everyChecked(parsed.data.pulse_info.pulses, pulse);
  // Without its base type no pulse can be checked; OTX leaves it out only when there is no pulse.
  if (pulses.length > 0 && baseIndicatorType === undefined) throw keyError(DISPLAY_NAME);
  return { baseIndicatorType, pulses };
}

/** What pulseIndicatorSchema makes of an entry (its three fields), or undefined when it would fail. */
export function pulseIndicator(entry: unknown): PulseIndicator | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const { indicator, created, expiration } = entry as Record<string, unknown>;
  if (typeof indicator !== 'string' || typeof created !== 'string') return undefined;
  if (expiration === undefined) return { indicator, created };
  if (expiration !== null && typeof expiration !== 'string') return undefined;
  return { indicator, created, expiration };
}

export function parsePulseIndicatorsPage(json: unknown): PulseIndicatorsPage {
  const parsed = pulseIndicatorsPageSchema.safeParse(json);
  if (!parsed.success) throw keyError(DISPLAY_NAME);
  const { next, count } = parsed.data;
  const results = everyChecked(parsed.data.results, pulseIndicator);
  const hasNext = typeof next === 'string' && next !== '';
  const pageCount = hasNext && typeof count === 'number' && results.length > 0 ? Math.ceil(count / results.length) : undefined;
  return { results, hasNext, pageCount };
}
