// The one interface every provider module satisfies. A provider is a plain object; the core
// handles auth, bodies, concurrency, partial failures, the envelope and errors around it.
import type { z } from 'zod/v4';
import type { Memo } from './memo.js';
import type { FastifyBaseLogger } from 'fastify';
import type { ObservableResult } from './bundle.js';
import type { Observable } from './observables.js';
import type { RateLimit } from './rate-limit.js';
import type { Http } from './upstream.js';
import type { ObservableType } from './validators.js';

export interface ReferLink {
  id: string;
  title: string;
  description: string;
  url: string;
  categories: string[];
}

export interface ProviderContext<Credentials, Config> {
  /** The provider's own settings, parsed from the environment by its `settingsSchema`. */
  config: Config;
  /** From the verified token; `undefined` for a provider without credentials. */
  credentials: Credentials;
  /** Per observable, the most sightings/indicators/judgements of each type to keep (newest). */
  entitiesLimit: number;
  http: Http;
  /** Aborted when the request's deadline passes or the caller goes away. */
  signal: AbortSignal;
  /** The time the request started: one "now" for every entity of an answer. */
  now: Date;
  log: FastifyBaseLogger;
  /** Hints learned from earlier answers for this credential (see memo.ts); absent with CACHE=off. */
  memo?: Memo | undefined;
  /**
   * Resolves in a later turn of the event loop (turns.ts): a provider mapping thousands of
   * entities awaits it every so often, so that other requests are served meanwhile.
   */
  nextTurn?: (() => Promise<void>) | undefined;
}

export interface ProviderDefinition<Credentials = unknown, Config = unknown> {
  /** Mount point and registry key: `/<id>/observe/observables`. */
  id: string;
  /** `source` of every entity, and the name in error messages. */
  displayName: string;
  supportedTypes: readonly ObservableType[];
  /** Token payload fields; `null` when the provider needs no credentials (no token is read). */
  credentialsSchema: z.ZodType<Credentials, unknown> | null;
  settingsSchema: z.ZodType<Config, unknown>;
  /** One cheap upstream call proving the credentials work; throws a RelayError when not. */
  health(context: ProviderContext<Credentials, Config>): Promise<void>;
  /** Verdicts only; leave out when the provider has no verdict data (answers `{"data": {}}`). */
  deliberate?(context: ProviderContext<Credentials, Config>, observable: Observable): Promise<ObservableResult>;
  observe(context: ProviderContext<Credentials, Config>, observable: Observable): Promise<ObservableResult>;
  /** Pivot links; leave out when the provider has none (answers `{"data": []}`). */
  refer?(context: ProviderContext<Credentials, Config>, observable: Observable): Promise<ReferLink[]> | ReferLink[];
  /** Whether refer calls upstream and so needs the token (the others only build links). */
  referNeedsCredentials?: boolean;
  /**
   * Calls per credential the provider allows (its published free tier), as a token bucket;
   * `RATE_LIMIT_<ID>` overrides it. Leave out when unknown: its 429s are still honoured.
   */
  rateLimit?: RateLimit;
}

// The registry holds providers of different credential/config types side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Provider = ProviderDefinition<any, any>;

/** Identity helper that keeps a provider's own types checked where it is written. */
export function defineProvider<Credentials, Config>(provider: ProviderDefinition<Credentials, Config>): ProviderDefinition<Credentials, Config> {
  return provider;
}
