// C1fApp's lookup answer: a JSON list of records whose fields are (mostly) lists, or one of two
// plain-text sentences meaning "nothing known". Only the fields the mapping reads are checked.
import { z } from 'zod/v4';
import { keyError } from '../../core/errors.js';
import { parseUtcTime } from '../../core/ctim.js';
import { DISPLAY_NAME } from './display-name.js';

/** The plain-text answers C1fApp gives when it has nothing for a value (not errors). */
export const NOTHING_KNOWN_ANSWERS: readonly string[] = [
  'Unsupported request ? IPv4/Domain only',
  'Empty Search! Available search: IPv4/URL/Domain',
];

// Every record seen lists its values; a lone string is tolerated as a one-item list.
const stringList = z.union([z.array(z.string()), z.string().transform((text) => [text])]);
const confidenceList = z.array(z.union([z.number(), z.string()])).min(1);

const recordSchema = z.object({
  feed_label: stringList.refine((labels) => (labels[0] ?? '').trim() !== ''),
  reportime: stringList.transform((times, context) => {
    const reportedAt = parseUtcTime(times[0] ?? '');
    if (reportedAt === undefined) {
      context.addIssue({ code: 'custom', message: 'reportime is not a date' });
      return z.NEVER;
    }
    return reportedAt;
  }),
  confidence: confidenceList,
  source: stringList,
  assessment: stringList,
  domain: stringList,
  address: stringList,
  ip_address: stringList,
});

export interface C1fappRecord {
  feedLabel: string;
  /** `reportime[0]`, a day, as midnight UTC. */
  reportedAt: Date;
  /** `confidence[0]`: 0–100, a number or a numeric string. */
  confidence: number | string;
  /** `source[0]`: one or more comma-separated URLs. */
  sources: string;
  assessments: string[];
  domains: string[];
  addresses: string[];
  ipAddresses: string[];
}

const answerSchema = z.array(recordSchema);

/** Trimmed, so a trailing newline or a JSON-quoted form of the sentence still counts. */
export function isNothingKnownAnswer(body: string): boolean {
  const trimmed = body.trim();
  if (NOTHING_KNOWN_ANSWERS.includes(trimmed)) return true;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return typeof parsed === 'string' && NOTHING_KNOWN_ANSWERS.includes(parsed.trim());
  } catch {
    return false;
  }
}

/** The body of a successful lookup as records; anything but records or a known sentence is a `key error`. */
export function parseLookupAnswer(body: string): C1fappRecord[] {
  if (isNothingKnownAnswer(body)) return [];
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw keyError(DISPLAY_NAME);
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw keyError(DISPLAY_NAME);
  return parsed.data.map((record) => ({
    feedLabel: (record.feed_label[0] ?? '').trim(),
    reportedAt: record.reportime,
    confidence: record.confidence[0] ?? '',
    sources: record.source[0] ?? '',
    assessments: record.assessment,
    domains: record.domain,
    addresses: record.address,
    ipAddresses: record.ip_address,
  }));
}
