// The enrichment core as the CLI's `lookup` and the MCP server use it, in-process: extraction,
// lookups across every mounted provider, and refer links alone. One interface, so both front doors
// run the same code as `POST /enrich/*` through the same gate.
import type { Observable } from '../core/observables.js';
import type { ObservableType } from '../core/validators.js';
import type { AnswerView, EventView, WithheldView } from './answer-view.js';
import type { Extracted } from './lookup-input.js';

export interface EnrichOptions {
  /** Only these provider ids (default: every mounted one). */
  providers?: readonly string[] | undefined;
  /** Keep each provider's CTIM answer in the result (`?ctim=false` leaves it out). */
  ctim: boolean;
  /** Ends the work early (the MCP client cancelled); the deadline holds anyway. */
  signal?: AbortSignal | undefined;
  /** The streaming lines, as they happen: each provider's result, each observable's verdict, the end. */
  onEvent?: ((event: EventView) => void) | undefined;
}

export interface PivotLink {
  provider: string;
  title: string;
  description: string;
  url: string;
}

export interface PivotAnswer {
  observables: { type: ObservableType; value: string; links: PivotLink[]; errors: { provider: string; code: string; message: string }[] }[];
  withheld: WithheldView[];
}

export interface ProviderInfo {
  id: string;
  name: string;
  supportedTypes: readonly ObservableType[];
}

export interface Enrichment {
  providers: readonly ProviderInfo[];
  extract(text: string): Extracted;
  /** The privacy guard alone: what may be looked up, and what is withheld with its reason. */
  guard(observables: readonly Observable[]): { kept: Observable[]; withheld: WithheldView[] };
  enrich(observables: readonly Observable[], options: EnrichOptions): Promise<AnswerView>;
  pivotLinks(observables: readonly Observable[], options: Pick<EnrichOptions, 'providers' | 'signal'>): Promise<PivotAnswer>;
}
