// Pulsedive's risk levels → CTIM disposition and severity (the verdict, the judgement, sightings).
import type { DispositionKey, Level } from '../../core/ctim.js';
import { keyError } from '../../core/errors.js';
import { DISPLAY_NAME } from './display-name.js';

export interface RiskAssessment {
  disposition: DispositionKey;
  severity: Level;
}

const RISK_TABLE = new Map<string, RiskAssessment>([
  ['none', { disposition: 'clean', severity: 'None' }],
  ['unknown', { disposition: 'unknown', severity: 'Unknown' }],
  ['retired', { disposition: 'unknown', severity: 'Unknown' }],
  ['low', { disposition: 'suspicious', severity: 'Low' }],
  ['medium', { disposition: 'suspicious', severity: 'Medium' }],
  ['high', { disposition: 'malicious', severity: 'High' }],
  ['critical', { disposition: 'malicious', severity: 'High' }],
]);

/** Whether Pulsedive has retired the indicator: its `retired` field holds a reason (or true). */
export function isRetired(retired: string | boolean | number | null | undefined): boolean {
  if (typeof retired === 'string') return retired.trim() !== '';
  return retired === true || (typeof retired === 'number' && retired !== 0);
}

/**
 * The risk table. A retired indicator whose risk is `none` was clean once but is no longer
 * watched, so it is not called clean now: it counts as `retired` (Unknown). A level outside the
 * table means Pulsedive changed its scale, which the module cannot guess at: the key error.
 */
export function pulsediveRiskToDisposition(risk: string, retired: boolean): RiskAssessment {
  const level = risk.trim().toLowerCase();
  const assessment = RISK_TABLE.get(retired && level === 'none' ? 'retired' : level);
  if (assessment === undefined) throw keyError(DISPLAY_NAME);
  return assessment;
}

/** A severity from a risk level when it is one of the table's, for objects that carry their own risk. */
export function severityOfRisk(risk: string | null | undefined): Level | undefined {
  if (risk === null || risk === undefined) return undefined;
  return RISK_TABLE.get(risk.trim().toLowerCase())?.severity;
}
