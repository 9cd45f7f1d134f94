// The enrichment answer of ../../shared/spec/enrich-api.md ("Lookup"), as types: what the HTTP API,
// the NDJSON stream, the CLI, the MCP server and the console all render. Field names are the
// wire names (snake_case where the spec has it).
import type { FastifyBaseLogger } from 'fastify';
import type { RequestBudget } from '../core/budget.js';
import type { BundleData } from '../core/bundle.js';
import type { CredentialField } from '../core/credential-fields.js';
import type { DispositionName, DispositionNumber } from '../core/ctim.js';
import type { ErrorCode } from '../core/errors.js';
import type { Observable } from '../core/observables.js';
import type { WithheldObservable } from '../core/privacy-guard.js';
import type { ObservableType } from '../core/validators.js';

export type { Observable, WithheldObservable, CredentialField };

/** A mounted provider as `GET /enrich/providers` lists it. */
export interface ProviderInfo {
  id: string;
  name: string;
  supported_types: ObservableType[];
  /** The token payload fields under the provider's id; empty when it needs none. */
  credentials: CredentialField[];
}

/** `POST /enrich/inspect`: what the text holds, in order of first appearance. */
export interface Inspection {
  observables: Observable[];
  withheld: WithheldObservable[];
}

export interface ProviderVerdict {
  disposition: DispositionNumber;
  disposition_name: DispositionName;
}

/** The consensus: the most severe verdict, and how many providers gave each. */
export interface ConsensusVerdict extends ProviderVerdict {
  malicious: number;
  suspicious: number;
  /** Clean and Common verdicts. */
  clean: number;
  /** Providers that answered with an Unknown verdict or none. */
  unknown: number;
  /** Providers whose status is `ok`: malicious + suspicious + clean + unknown. */
  answered: number;
}

export interface EntityCounts {
  judgements: number;
  sightings: number;
  indicators: number;
  relationships: number;
}

export interface ProviderLink {
  title: string;
  url: string;
}

export interface ProviderError {
  code: ErrorCode;
  message: string;
}

interface ProviderResultBase {
  id: string;
  name: string;
}

export interface ProviderOk extends ProviderResultBase {
  status: 'ok';
  /** Absent when the provider gave no verdict. */
  verdict?: ProviderVerdict;
  counts: EntityCounts;
  /** At most five: sightings' titles, then indicators', then judgements' reasons. */
  titles: string[];
  /** Earliest and latest `observed_time` of its sightings; absent without sightings. */
  first_seen?: string;
  last_seen?: string;
  links: ProviderLink[];
  /** Exactly what the module's observe answers for the observable; left out with `ctim: false`. */
  ctim?: BundleData;
  /** Present when observe answered but refer failed (its links are then missing). */
  error?: ProviderError;
}

export interface ProviderFailed extends ProviderResultBase {
  status: 'error';
  error: ProviderError;
}

export interface ProviderSkipped extends ProviderResultBase {
  status: 'skipped';
  /** `no credentials`. */
  reason: string;
}

export type ProviderResult = ProviderOk | ProviderFailed | ProviderSkipped;

export interface EnrichedObservable extends Observable {
  verdict: ConsensusVerdict;
  /** One per mounted provider that supports the type (and was asked), in mount order. */
  providers: ProviderResult[];
}

/** The `data` of `POST /enrich/observables`. */
export interface EnrichAnswer {
  observables: EnrichedObservable[];
  withheld: WithheldObservable[];
}

/** The NDJSON stream's lines, in the order they are emitted. */
export type EnrichEvent =
  | { observable: Observable; provider: ProviderResult }
  | { observable: Observable; verdict: ConsensusVerdict }
  | { done: true; withheld: WithheldObservable[] };

export interface EnrichOptions {
  /** Per provider id, its already-validated credentials; a provider needing some without an entry is skipped. */
  credentials: Readonly<Record<string, unknown>>;
  /** Only these provider ids (the others are not listed); all mounted ones when absent. */
  providers?: readonly string[];
  /** Whether each ok provider carries its observe answer as `ctim` (default true). */
  ctim?: boolean;
  /** Per observable, the most entities of each kind a provider keeps (the token's CTR_ENTITIES_LIMIT). */
  entitiesLimit?: number;
  /** Ends the work early (the caller went away); the request deadline applies on top. */
  signal?: AbortSignal;
  /** The request's logger (its request id); the enricher's own when absent. */
  log?: FastifyBaseLogger;
  /** Called once per provider result as it arrives, once per observable when done, and once at the end. */
  onEvent?: (event: EnrichEvent) => void;
  /** The request's budget (from admission control, docs/limits.md); a fresh one from the settings when absent. */
  budget?: RequestBudget;
}
