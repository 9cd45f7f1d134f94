// The parts of the enrichment answer (enrich-api.md, "Lookup") that the CLI's and the MCP server's
// renderers read: a structural view, so they need nothing of the core beyond the answer's shape.
import type { ErrorDocument } from '../core/errors.js';
import type { ObservableType } from '../core/validators.js';

export interface VerdictView {
  disposition: number;
  disposition_name: string;
}

export interface ConsensusView extends VerdictView {
  malicious: number;
  suspicious: number;
  clean: number;
  unknown: number;
  answered: number;
}

export interface ProviderResultView {
  id: string;
  name: string;
  status: 'ok' | 'error' | 'skipped';
  verdict?: VerdictView | undefined;
  counts?: { judgements: number; sightings: number; indicators: number; relationships: number } | undefined;
  titles?: readonly string[] | undefined;
  first_seen?: string | undefined;
  last_seen?: string | undefined;
  links?: readonly { title: string; url: string }[] | undefined;
  error?: Pick<ErrorDocument, 'code' | 'message'> | undefined;
  reason?: string | undefined;
}

export interface ObservableResultView {
  type: ObservableType;
  value: string;
  verdict: ConsensusView;
  providers: readonly ProviderResultView[];
}

export interface WithheldView {
  type: ObservableType | string;
  value: string;
  reason: string;
}

export interface AnswerView {
  observables: readonly ObservableResultView[];
  withheld: readonly WithheldView[];
}

/** The NDJSON stream's lines (enrich-api.md): a provider's result, an observable's verdict, the end. */
export type EventView =
  | { observable: { type: ObservableType; value: string }; provider: ProviderResultView }
  | { observable: { type: ObservableType; value: string }; verdict: ConsensusView }
  | { done: true; withheld: readonly WithheldView[] };

/** Whether a provider that answered knows anything about the observable (a verdict other than Unknown, or any entity). */
export function knowsSomething(provider: ProviderResultView): boolean {
  if (provider.status !== 'ok') return false;
  const counts = provider.counts;
  const entities = counts === undefined ? 0 : counts.judgements + counts.sightings + counts.indicators + counts.relationships;
  return entities > 0 || (provider.verdict !== undefined && provider.verdict.disposition !== 5);
}

/**
 * The exit status of `lookup` (documented in docs/cli.md): 4 when an observable is Malicious, 3
 * when one is Suspicious, otherwise 1 when an observable that some provider supports got no answer
 * from any (or nothing could be looked up at all), otherwise 0. An observable no mounted provider
 * supports (an e-mail address with `--providers pulsedive`) fails nothing.
 */
export function exitStatusOf(answer: AnswerView): number {
  const dispositions = answer.observables.map((observable) => observable.verdict.disposition);
  if (dispositions.includes(2)) return 4;
  if (dispositions.includes(3)) return 3;
  const asked = answer.observables.filter((observable) => observable.providers.length > 0);
  if (asked.length === 0) return 1;
  const unanswered = asked.some((observable) => !observable.providers.some((provider) => provider.status === 'ok'));
  return unanswered ? 1 : 0;
}
