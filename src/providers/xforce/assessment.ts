// X-Force's score (0–10) and malware risk, as CTIM disposition and severity.
import type { DispositionKey, Level } from '../../core/ctim.js';

export interface Assessment {
  disposition: DispositionKey;
  severity: Level;
}

/**
 * No score is Unknown/Unknown; up to 3.9 Unknown/Low; up to 6.9 Suspicious/Medium; above,
 * Malicious/High. A score of 0 counts as no score, as in the original relay (X-Force scores start at 1).
 */
export function xforceScoreAssessment(score: number | null | undefined): Assessment {
  if (score === null || score === undefined || Number.isNaN(score) || score === 0) return { disposition: 'unknown', severity: 'Unknown' };
  if (score <= 3.9) return { disposition: 'unknown', severity: 'Low' };
  if (score <= 6.9) return { disposition: 'suspicious', severity: 'Medium' };
  return { disposition: 'malicious', severity: 'High' };
}

const RISKS: Record<string, Assessment> = {
  low: { disposition: 'unknown', severity: 'Low' },
  medium: { disposition: 'suspicious', severity: 'Medium' },
  high: { disposition: 'malicious', severity: 'High' },
};

/** A file's `malware.risk`: low, medium or high; anything else (none included) is Unknown/Unknown. */
export function xforceRiskAssessment(risk: string | null | undefined): Assessment {
  return (risk === null || risk === undefined ? undefined : RISKS[risk.trim().toLowerCase()]) ?? { disposition: 'unknown', severity: 'Unknown' };
}
