// Pulsedive answers (`info.php`), parsed with minimal schemas: only the fields the mapping reads
// are checked, everything else is tolerated. A field the mapping cannot do without is the
// contract's key error.
import { z } from 'zod/v4';
import { keyError } from '../../core/errors.js';
import { DISPLAY_NAME } from './display-name.js';

// Pulsedive numbers its objects; tolerate the id arriving as a string.
const objectId = z.union([z.number(), z.string().min(1)]);
// Stamps are UTC `YYYY-MM-DD HH:MM:SS`; absent ones come as null or as an empty string.
const optionalStamp = z.string().nullish();

const riskFactorSchema = z.object({ description: z.string() });

const threatSchema = z.object({
  tid: objectId,
  name: z.string(),
  category: z.string().nullish(),
  risk: z.string().nullish(),
  stamp_linked: z.string(),
});

const feedSchema = z.object({
  fid: objectId,
  name: z.string(),
  category: z.string().nullish(),
  organization: z.string().nullish(),
  stamp_linked: z.string(),
});

const infoSchema = z.object({
  iid: objectId,
  risk: z.string(),
  // A reason (`"No recent activity"`) once retired; null or empty while active.
  retired: z.union([z.string(), z.boolean(), z.number()]).nullish(),
  stamp_seen: optionalStamp,
  stamp_added: optionalStamp,
  stamp_retired: optionalStamp,
  riskfactors: z.array(riskFactorSchema).nullish(),
  threats: z.array(threatSchema).nullish(),
  feeds: z.array(feedSchema).nullish(),
});

const linkSchema = z.object({ indicator: z.string(), type: z.string(), stamp_linked: z.string() });

// `get=links` groups the linked indicators by kind; only `Active DNS` is read. A kind holding one
// indicator has been seen as a bare object instead of a list.
const linksSchema = z.object({ 'Active DNS': z.union([z.array(linkSchema), linkSchema]).nullish() });

export type InfoAnswer = z.infer<typeof infoSchema>;
export type RiskFactor = z.infer<typeof riskFactorSchema>;
export type Threat = z.infer<typeof threatSchema>;
export type Feed = z.infer<typeof feedSchema>;
export type Link = z.infer<typeof linkSchema>;
export interface LinksAnswer {
  activeDns: Link[];
}

export function parseInfoAnswer(json: unknown): InfoAnswer {
  const parsed = infoSchema.safeParse(json);
  if (!parsed.success) throw keyError(DISPLAY_NAME);
  return parsed.data;
}

export function parseLinksAnswer(json: unknown): LinksAnswer {
  const parsed = linksSchema.safeParse(json);
  if (!parsed.success) throw keyError(DISPLAY_NAME);
  const activeDns = parsed.data['Active DNS'];
  return { activeDns: activeDns === undefined || activeDns === null ? [] : Array.isArray(activeDns) ? activeDns : [activeDns] };
}

/** The `error` Pulsedive puts in a JSON answer instead of data, as text; undefined when there is none. */
export function answerErrorText(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const error = (json as { error?: unknown }).error;
  if (error === undefined || error === null || error === false || error === '') return undefined;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/** `Indicator not found.`: Pulsedive knows nothing about the value, which is not a failure. */
export function isNotFoundError(text: string): boolean {
  return /^\s*indicator not found/i.test(text);
}
