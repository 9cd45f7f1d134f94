// The relay endpoints of one module (health, deliberate, observe, refer): authentication, body
// parsing, running the provider per observable under a bound and a deadline, and the envelope.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import { Bundle, type BundleData } from './bundle.js';
import { settleAll } from './concurrency.js';
import { AUTH_MESSAGES, RelayError, authorizationError, uniqueErrors, type ErrorDocument } from './errors.js';
import { type KeySets, verifyToken } from './auth.js';
import { parseJsonBody, parseObservables, type Observable } from './observables.js';
import type { Provider, ProviderContext, ReferLink } from './provider.js';
import { parseEntitiesLimit, type Settings } from './settings.js';
import type { CallStats, UpstreamClient } from './upstream.js';

export interface MountedModule {
  provider: Provider;
  config: unknown;
  client: UpstreamClient;
}

export interface RelayDependencies {
  settings: Settings;
  keySets: KeySets;
}

export type Endpoint = 'health' | 'deliberate' | 'observe' | 'refer';

export interface Answer {
  data?: unknown;
  errors?: ErrorDocument[];
}

/** What a request did, for its summary log line. */
export interface RequestSummary extends CallStats {
  module: string;
  endpoint: Endpoint;
  observables: number;
  errors: string[];
}

/** The module URLs a token may be addressed to (its `aud`), without a trailing slash. */
export function moduleAudiences(request: FastifyRequest, settings: Settings, id: string, prefix: string): string[] {
  const base = (settings.PUBLIC_URL ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
  return prefix === '' ? [base, `${base}/${id}`] : [`${base}/${id}`];
}

/** A hash naming the credential in shared state (cache keys, rate limits); never the credential. */
export function credentialScope(credentials: unknown): string {
  if (credentials === undefined) return '';
  return createHash('sha256').update(JSON.stringify(credentials)).digest('hex').slice(0, 32);
}

function requestSignal(reply: FastifyReply, deadlineMs: number): AbortSignal {
  const closed = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) closed.abort();
  });
  return AbortSignal.any([AbortSignal.timeout(deadlineMs), closed.signal]);
}

function deadlineError(module: MountedModule, settings: Settings): RelayError {
  return new RelayError(
    'service unavailable',
    `${module.provider.displayName} did not answer within the request deadline of ${settings.REQUEST_DEADLINE_MS} ms.`,
  );
}

export class ModuleRelay {
  constructor(
    private readonly module: MountedModule,
    private readonly deps: RelayDependencies,
  ) {}

  get provider(): Provider {
    return this.module.provider;
  }

  async handle(endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply, prefix: string): Promise<Answer> {
    const summary: RequestSummary = {
      module: this.provider.id,
      endpoint,
      observables: 0,
      upstreamCalls: 0,
      cacheHits: 0,
      errors: [],
    };
    const started = performance.now();
    try {
      const answer = await this.answer(endpoint, request, reply, prefix, summary);
      summary.errors = (answer.errors ?? []).map((error) => error.code);
      return answer;
    } catch (error) {
      if (error instanceof RelayError) summary.errors = [error.code];
      throw error;
    } finally {
      request.log.info({ summary: { ...summary, durationMs: Math.round(performance.now() - started) } }, 'relay request');
    }
  }

  private async answer(endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply, prefix: string, summary: RequestSummary): Promise<Answer> {
    const { provider } = this.module;
    const { settings } = this.deps;

    if (endpoint === 'health') {
      const context = await this.context(request, reply, prefix, true, summary);
      await settleOrThrow([null], context.signal, () => deadlineError(this.module, settings), () => provider.health(context));
      return { data: { status: 'ok' } };
    }

    const implemented = endpoint === 'deliberate' ? provider.deliberate : endpoint === 'refer' ? provider.refer : provider.observe;
    const needsCredentials = implemented !== undefined && (endpoint !== 'refer' || provider.referNeedsCredentials === true);
    const context = await this.context(request, reply, prefix, needsCredentials, summary);
    const observables = parseObservables(parseJsonBody(request.body), provider.supportedTypes, settings.MAX_OBSERVABLES);
    summary.observables = observables.length;

    if (endpoint === 'refer') {
      if (provider.refer === undefined || observables.length === 0) return { data: [] };
      const refer = provider.refer.bind(provider);
      const settled = await this.run(observables, context, async (observable) => refer(context, observable));
      const links = new Map<string, ReferLink>();
      for (const link of settled.results.flat()) if (!links.has(link.id)) links.set(link.id, link);
      return envelope([...links.values()], settled.errors, (data) => data.length === 0);
    }

    if (implemented === undefined || observables.length === 0) return { data: {} };
    const lookup = endpoint === 'deliberate' ? provider.deliberate!.bind(provider) : provider.observe.bind(provider);
    const settled = await this.run(observables, context, (observable) => lookup(context, observable));
    const bundle = new Bundle();
    for (const result of settled.results) bundle.add(result);
    const dangling = bundle.danglingRelationships();
    if (dangling.length > 0) request.log.warn({ module: provider.id, dangling: dangling.length }, 'relationships without both ends dropped');
    return envelope(bundle.toData(), settled.errors, (data: BundleData) => Object.keys(data).length === 0);
  }

  private run<T>(observables: Observable[], context: ProviderContext<unknown, unknown>, work: (observable: Observable) => Promise<T>) {
    return settleAll(observables, this.deps.settings.OBSERVABLE_CONCURRENCY, context.signal, () => deadlineError(this.module, this.deps.settings), work);
  }

  private async context(
    request: FastifyRequest,
    reply: FastifyReply,
    prefix: string,
    needsCredentials: boolean,
    stats: CallStats,
  ): Promise<ProviderContext<unknown, unknown>> {
    const { provider, config, client } = this.module;
    const { settings, keySets } = this.deps;
    let credentials: unknown;
    let entitiesLimit = settings.CTR_ENTITIES_LIMIT;
    if (needsCredentials && provider.credentialsSchema !== null) {
      const payload: JWTPayload = await verifyToken(
        request.headers.authorization,
        moduleAudiences(request, settings, provider.id, prefix),
        settings,
        keySets,
      );
      const parsed = provider.credentialsSchema.safeParse(payload);
      if (!parsed.success) throw authorizationError(AUTH_MESSAGES.wrongPayload);
      credentials = parsed.data;
      entitiesLimit = parseEntitiesLimit(payload.CTR_ENTITIES_LIMIT, settings.CTR_ENTITIES_LIMIT);
    }
    const signal = requestSignal(reply, settings.REQUEST_DEADLINE_MS);
    return {
      config,
      credentials,
      entitiesLimit,
      http: client.forRequest(signal, stats, credentialScope(credentials)),
      signal,
      now: new Date(),
      log: request.log,
    };
  }
}

async function settleOrThrow(
  items: readonly null[],
  signal: AbortSignal,
  onDeadline: () => RelayError,
  work: () => Promise<void>,
): Promise<void> {
  const settled = await settleAll(items, 1, signal, onDeadline, work);
  if (settled.errors[0] !== undefined) throw settled.errors[0];
}

/** `data` for what succeeded, `errors` for what failed; data is left out when it holds nothing. */
function envelope<T>(data: T, errors: RelayError[], isEmpty: (data: T) => boolean): Answer {
  if (errors.length === 0) return { data };
  return isEmpty(data) ? { errors: uniqueErrors(errors) } : { data, errors: uniqueErrors(errors) };
}
