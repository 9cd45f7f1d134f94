// The relay endpoints of one module (health, deliberate, observe, refer): authentication, body
// parsing, running the provider per observable under a bound and a deadline, and the envelope.
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import { Bundle, type BundleData } from './bundle.js';
import { settleAll } from './concurrency.js';
import { AUTH_MESSAGES, RelayError, authorizationError, uniqueErrors, type ErrorDocument } from './errors.js';
import { ObservableFailures, summariseFailedObservables, withoutObservables, type FailedObservablesSummary } from './failed-observables.js';
import { type KeySets, type VerifiedTokens, verifyToken } from './auth.js';
import type { ProviderMemo } from './memo.js';
import type { RelayMetrics } from './metrics.js';
import { parseJsonBody, parseObservables, type Observable } from './observables.js';
import { createPrivacyGuard, type PrivacyGuard } from './privacy-guard.js';
import type { Provider, ProviderContext, ReferLink } from './provider.js';
import { parseEntitiesLimit, type Settings } from './settings.js';
import type { CallStats, UpstreamClient } from './upstream.js';

export interface MountedModule {
  provider: Provider;
  config: unknown;
  client: UpstreamClient;
  /** Present when answers are cached (see memo.ts). */
  memo?: ProviderMemo | undefined;
}

export interface RelayDependencies {
  settings: Settings;
  keySets: KeySets;
  verifiedTokens?: VerifiedTokens;
  /** Counts every request for `/metrics`. */
  metrics?: RelayMetrics;
}

export type Endpoint = 'health' | 'deliberate' | 'observe' | 'refer';

export interface Answer {
  data?: unknown;
  errors?: ErrorDocument[];
}

/** What the provider is asked with: from a verified token (HTTP) or given directly (CLI). */
export interface LookupAccess {
  /** `undefined` for a provider without credentials, or an endpoint that does not read them. */
  credentials: unknown;
  entitiesLimit: number;
}

export interface LookupOptions extends LookupAccess {
  settings: Settings;
  log: FastifyBaseLogger;
  /** Counts the upstream calls and cache hits, for a summary. */
  stats: CallStats;
  /** Ends the work early when the caller goes away (on top of the deadline): registers `abort`, returns the unwatch. */
  whenGone?: (abort: () => void) => () => void;
}

/** What a request did, for its summary log line. */
export interface RequestSummary extends CallStats, Partial<FailedObservablesSummary> {
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
  const object = typeof credentials === 'object' && credentials !== null ? credentials : undefined;
  const known = object === undefined ? undefined : scopes.get(object);
  if (known !== undefined) return known;
  const scope = createHash('sha256').update(JSON.stringify(credentials)).digest('hex').slice(0, 32);
  if (object !== undefined) scopes.set(object, scope);
  return scope;
}

// The same credentials object comes back with every request of a remembered token (see access()).
const scopes = new WeakMap<object, string>();

/** Calls `abort` when the client goes away before its answer was written; returns the unwatch. */
function whenClientGone(reply: FastifyReply): (abort: () => void) => () => void {
  return (abort) => {
    const closed = (): void => {
      if (!reply.raw.writableFinished) abort();
    };
    reply.raw.once('close', closed);
    return () => void reply.raw.off('close', closed);
  };
}

function deadlineError(module: MountedModule, settings: Settings): RelayError {
  return new RelayError(
    'service unavailable',
    `${module.provider.displayName} did not answer within the request deadline of ${settings.REQUEST_DEADLINE_MS} ms.`,
  );
}

/** Whether an endpoint of a provider reads the token: those that call upstream with credentials. */
export function endpointNeedsCredentials(provider: Provider, endpoint: Endpoint): boolean {
  if (provider.credentialsSchema === null) return false;
  if (endpoint === 'health') return true;
  const implemented = endpoint === 'deliberate' ? provider.deliberate : endpoint === 'refer' ? provider.refer : provider.observe;
  return implemented !== undefined && (endpoint !== 'refer' || provider.referNeedsCredentials === true);
}

/**
 * The work of one endpoint for observables already parsed and filtered, without HTTP: the relay's
 * routes and the CLI's in-process lookups share it. Per observable, concurrently and bounded, under
 * the request deadline; what succeeded is kept next to what failed.
 */
export async function lookup(module: MountedModule, endpoint: Endpoint, observables: readonly Observable[], options: LookupOptions): Promise<Answer> {
  const { settings } = options;
  const deadlineAt = Date.now() + settings.REQUEST_DEADLINE_MS;
  // A timer cleared when the lookup ends, not AbortSignal.timeout(): that signal would keep its
  // listeners, and through them the whole answer, in memory until the deadline, long after the
  // answer was sent (hundreds of MB under load).
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), settings.REQUEST_DEADLINE_MS);
  const stopWatchingCaller = options.whenGone?.(() => deadline.abort());
  try {
    return await lookupUntil(module, endpoint, observables, options, deadline.signal, deadlineAt);
  } finally {
    clearTimeout(timer);
    stopWatchingCaller?.();
  }
}

async function lookupUntil(
  module: MountedModule,
  endpoint: Endpoint,
  observables: readonly Observable[],
  options: LookupOptions,
  signal: AbortSignal,
  deadlineAt: number,
): Promise<Answer> {
  const { provider, config, client } = module;
  const { settings, credentials } = options;
  const scope = credentialScope(credentials);
  const context: ProviderContext<unknown, unknown> = {
    config,
    credentials,
    entitiesLimit: options.entitiesLimit,
    // Health proves the credentials work now: never answered from the cache.
    http: client.forRequest(signal, options.stats, scope, { deadlineAt, useCache: endpoint !== 'health', log: options.log }),
    signal,
    now: new Date(),
    log: options.log,
    memo: endpoint === 'health' ? undefined : module.memo?.forScope(scope),
  };
  const onDeadline = (): RelayError => deadlineError(module, settings);
  // A failure that is not a RelayError is a bug in a module: the caller gets `unknown`, the
  // operator gets where it happened. Only the error's type and stack frames are logged, never its
  // message, which may quote an upstream URL and the key in it.
  const logBug = (error: unknown): never => {
    if (!(error instanceof RelayError)) {
      const frames = error instanceof Error ? (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).slice(0, 8).map((line) => line.trim()) : [];
      options.log.error({ module: provider.id, endpoint, errorType: error instanceof Error ? error.name : typeof error, frames }, 'unexpected error in a module');
    }
    throw error;
  };
  // Which observable failed with which error, for the answer's errors and the summary line.
  const failures = new ObservableFailures();
  const run = <T>(work: (observable: Observable) => Promise<T>) =>
    settleAll(observables, settings.OBSERVABLE_CONCURRENCY, signal, failures.deadline(onDeadline), (observable) =>
      failures.watch(observable, work(observable).catch(logBug)),
    );

  if (endpoint === 'health') {
    await settleOrThrow([null], signal, onDeadline, () => provider.health(context));
    return { data: { status: 'ok' } };
  }

  if (endpoint === 'refer') {
    if (provider.refer === undefined || observables.length === 0) return { data: [] };
    const refer = provider.refer.bind(provider);
    const settled = await run(async (observable) => refer(context, observable));
    const links = new Map<string, ReferLink>();
    for (const link of settled.results.flat()) if (!links.has(link.id)) links.set(link.id, link);
    return envelope([...links.values()], settled.errors, (data) => data.length === 0, failures.observablesOf(observables));
  }

  const implemented = endpoint === 'deliberate' ? provider.deliberate : provider.observe;
  if (implemented === undefined || observables.length === 0) return { data: {} };
  const find = implemented.bind(provider);
  const settled = await run((observable) => find(context, observable));
  const failedObservables = failures.observablesOf(observables);
  const bundle = new Bundle();
  for (const result of settled.results) {
    bundle.add(result);
    if (result.errors !== undefined) settled.errors.push(...result.errors);
  }
  const dangling = bundle.danglingRelationships();
  if (dangling.length > 0) options.log.warn({ module: provider.id, dangling: dangling.length }, 'relationships without both ends dropped');
  return envelope(bundle.toData(), settled.errors, (data: BundleData) => Object.keys(data).length === 0, failedObservables);
}

/** `ok`, `partial` (some data and some errors), or the error code when nothing succeeded. */
function requestOutcome(answer: Answer): string {
  const first = answer.errors?.[0];
  if (first === undefined) return 'ok';
  return answer.data === undefined ? first.code : 'partial';
}

export class ModuleRelay {
  private readonly accessByPayload = new WeakMap<JWTPayload, LookupAccess>();
  private readonly privacyGuard: PrivacyGuard;

  constructor(
    private readonly module: MountedModule,
    private readonly deps: RelayDependencies,
  ) {
    this.privacyGuard = createPrivacyGuard(deps.settings);
  }

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
    let outcome = 'ok';
    try {
      const answer = await this.answer(endpoint, request, reply, prefix, summary);
      const retryAfter = retryAfterOf(answer);
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
      summary.errors = (answer.errors ?? []).map((error) => error.code);
      Object.assign(summary, summariseFailedObservables(answer.errors));
      outcome = requestOutcome(answer);
      if (answer.errors !== undefined && !this.deps.settings.ERROR_OBSERVABLES) answer.errors = withoutObservables(answer.errors);
      return answer;
    } catch (error) {
      outcome = error instanceof RelayError ? error.code : 'unknown';
      summary.errors = [outcome];
      throw error;
    } finally {
      const durationMs = performance.now() - started;
      request.log.info({ summary: { ...summary, durationMs: Math.round(durationMs) } }, 'relay request');
      this.deps.metrics?.recordRequest({ module: summary.module, endpoint, outcome, observables: summary.observables, durationMs });
    }
  }

  private async answer(endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply, prefix: string, summary: RequestSummary): Promise<Answer> {
    const { provider } = this.module;
    const { settings } = this.deps;
    const access = await this.access(request, prefix, endpointNeedsCredentials(provider, endpoint));
    const parsed = endpoint === 'health' ? [] : parseObservables(parseJsonBody(request.body), provider.supportedTypes, settings.MAX_OBSERVABLES);
    // Private and internal observables are dropped like unsupported ones: no call, no error.
    const { kept: observables, withheld } = this.privacyGuard.partition(parsed);
    if (withheld.length > 0) request.log.debug({ module: provider.id, endpoint, withheld: withheld.length }, 'private or internal observables withheld');
    summary.observables = observables.length;
    return lookup(this.module, endpoint, observables, { ...access, settings, log: request.log, stats: summary, whenGone: whenClientGone(reply) });
  }

  /** The verified credentials and entities limit of the request's token, when the endpoint reads one. */
  private async access(request: FastifyRequest, prefix: string, needsCredentials: boolean): Promise<LookupAccess> {
    const { provider } = this.module;
    const { settings, keySets, verifiedTokens } = this.deps;
    if (!needsCredentials || provider.credentialsSchema === null) return { credentials: undefined, entitiesLimit: settings.CTR_ENTITIES_LIMIT };
    const payload: JWTPayload = await verifyToken(
      request.headers.authorization,
      moduleAudiences(request, settings, provider.id, prefix),
      settings,
      keySets,
      verifiedTokens,
      { moduleId: provider.id, required: settings.PROVIDERS.length > 1 },
    );
    const known = this.accessByPayload.get(payload);
    if (known !== undefined) return known;
    const parsed = provider.credentialsSchema.safeParse(payload);
    if (!parsed.success) throw authorizationError(AUTH_MESSAGES.wrongPayload);
    const access = { credentials: parsed.data, entitiesLimit: parseEntitiesLimit(payload.CTR_ENTITIES_LIMIT, settings.CTR_ENTITIES_LIMIT) };
    // A remembered token's payload is the same object on every request (see VerifiedTokens).
    this.accessByPayload.set(payload, access);
    return access;
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

// The seconds after which an answer's `too many requests` errors would go away, by answer: sent as
// the HTTP `Retry-After` header, since the contract's error documents carry no such field.
const retryAfterOfAnswer = new WeakMap<Answer, number>();

/** When a retry would find tokens for everything this answer's rate limits refused; undefined when none did. */
export function retryAfterOf(answer: Answer): number | undefined {
  return retryAfterOfAnswer.get(answer);
}

/** `data` for what succeeded, `errors` for what failed (each naming its observables); data is left out when it holds nothing. */
function envelope<T>(data: T, errors: RelayError[], isEmpty: (data: T) => boolean, observablesOf: Parameters<typeof uniqueErrors>[1]): Answer {
  if (errors.length === 0) return { data };
  const documents = uniqueErrors(errors, observablesOf);
  const answer = isEmpty(data) ? { errors: documents } : { data, errors: documents };
  let retryAfter: number | undefined;
  for (const error of errors) {
    if (error.code === 'too many requests' && error.retryAfterSeconds !== undefined) retryAfter = Math.max(retryAfter ?? 0, error.retryAfterSeconds);
  }
  if (retryAfter !== undefined) retryAfterOfAnswer.set(answer, retryAfter);
  return answer;
}
