// The relay endpoints of one module (health, deliberate, observe, refer): authentication, body
// parsing, running the provider per observable under a bound and a deadline, and the envelope.
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import { ENDED } from './abort-hub.js';
import { Bundle, type BundleData } from './bundle.js';
import type { Admission } from './admission.js';
import { answerStream, STREAM_ANSWERS_FROM_BYTES } from './answer-stream.js';
import { BudgetExhausted, RequestBudget, budgetError } from './budget.js';
import type { ObservableHold } from './byte-gate.js';
import { settleAll } from './concurrency.js';
import { turns } from './turns.js';
import { AUTH_MESSAGES, RelayError, authorizationError, uniqueErrors, type ErrorDocument } from './errors.js';
import { ObservableFailures, summariseFailedObservables, withoutObservables, type FailedObservablesSummary } from './failed-observables.js';
import { type KeySets, type VerifiedTokens, verifyToken } from './auth.js';
import type { ProviderMemo } from './memo.js';
import type { RelayMetrics } from './metrics.js';
import { parseJsonBody, parseObservables, type Observable } from './observables.js';
import { createPrivacyGuard, type PrivacyGuard } from './privacy-guard.js';
import type { Provider, ProviderContext, ReferLink } from './provider.js';
import { parseEntitiesLimit, type Settings } from './settings.js';
import type { CallStats, Http, SendHold, UpstreamClient } from './upstream.js';

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
  /** The bound on the work in flight across requests; without one, every request is admitted. */
  admission?: Admission;
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
  /**
   * What the whole incoming request may cost (upstream calls, entities, answer bytes). Made once
   * per incoming request and shared by every lookup() of it (one per provider when it fans out);
   * lookup() makes one from the settings when it is absent.
   */
  budget?: RequestBudget;
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
  const budget = options.budget ?? RequestBudget.fromSettings(settings);
  const deadlineAt = Date.now() + settings.REQUEST_DEADLINE_MS;
  // A timer cleared when the lookup ends, not AbortSignal.timeout(): that signal would keep its
  // listeners, and through them the whole answer, in memory until the deadline, long after the
  // answer was sent (hundreds of MB under load).
  const deadline = new AbortController();
  // What providers see: also aborted once any budget ran out, so that they start no more work
  // (OTX's pulse search stops and keeps what it found); calls in flight go on.
  const noMoreWork = new AbortController();
  const stop = (): void => {
    deadline.abort(ENDED);
    noMoreWork.abort(ENDED);
  };
  const timer = setTimeout(stop, settings.REQUEST_DEADLINE_MS);
  const stopWatchingCaller = options.whenGone?.(stop);
  // Out of entities or bytes: nothing more can join the answer, so the work still running ends now.
  const stopWatchingBudget = budget.whenExhausted(() => {
    noMoreWork.abort(ENDED);
    if (budget.exhausted?.budget !== 'upstream calls') deadline.abort(ENDED);
  });
  try {
    return await lookupUntil(module, endpoint, observables, { ...options, budget }, { signal: deadline.signal, providerSignal: noMoreWork.signal, deadlineAt });
  } finally {
    clearTimeout(timer);
    stopWatchingCaller?.();
    stopWatchingBudget();
    // Whatever is still running was left out of the answer (a search past its own time limit, an
    // observable past the deadline): its calls end now instead of holding memory and quota.
    stop();
  }
}

/**
 * One observable's upstream calls: each taken from the request's budget first; a call that goes
 * upstream waits for room in the upstream bytes gate, and its answer is counted there until the
 * observable is done (byte-gate.ts). Cache hits take a call from the budget but no room.
 */
function budgeted(http: Http, budget: RequestBudget, hold: ObservableHold, providerId: string, signal: AbortSignal, onAbort: () => RelayError): Http {
  return {
    request(request) {
      try {
        budget.takeCall();
      } catch (error) {
        return Promise.reject(error as Error);
      }
      const kind = `${providerId}\u0000${request.call}`;
      let reserved = 0;
      const sendHold: SendHold = {
        before() {
          const taken = hold.before(kind, signal, onAbort);
          reserved = taken.reserved;
          return taken.wait;
        },
        after: (bytes) => hold.after(kind, reserved, bytes),
      };
      budget.callStarted();
      const call = http.request({ ...request, hold: sendHold });
      call.then(
        () => budget.callEnded(),
        () => budget.callEnded(),
      );
      return call;
    },
  };
}

interface Bug {
  errorType: string;
  frames: string[];
}

async function lookupUntil(
  module: MountedModule,
  endpoint: Endpoint,
  observables: readonly Observable[],
  options: LookupOptions & { budget: RequestBudget },
  limits: { signal: AbortSignal; providerSignal: AbortSignal; deadlineAt: number },
): Promise<Answer> {
  const { provider, config, client } = module;
  const { settings, credentials, budget } = options;
  const { signal, deadlineAt } = limits;
  const scope = credentialScope(credentials);
  const context: ProviderContext<unknown, unknown> = {
    config,
    credentials,
    entitiesLimit: options.entitiesLimit,
    // Health proves the credentials work now: never answered from the cache.
    http: client.forRequest(signal, options.stats, scope, { deadlineAt, useCache: endpoint !== 'health', log: options.log }),
    signal: limits.providerSignal,
    now: new Date(),
    log: options.log,
    memo: endpoint === 'health' ? undefined : module.memo?.forScope(scope),
    nextTurn: () => turns.next(options.stats),
  };
  // Cut off by the deadline, the caller going away, or a budget that ran out.
  const onDeadline = (): RelayError => budget.exhausted ?? deadlineError(module, settings);
  // A failure that is not a RelayError is a bug in a module: the caller gets `unknown`, the
  // operator gets where it happened, in one line per request (not one per observable). Only the
  // error's type and stack frames are logged, never its message, which may quote an upstream URL
  // and the key in it.
  let bugs = 0;
  let firstBug: Bug | undefined;
  const noteBug = (error: unknown): never => {
    if (!(error instanceof RelayError)) {
      bugs += 1;
      if (firstBug === undefined) {
        const frames = error instanceof Error ? (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).slice(0, 8).map((line) => line.trim()) : [];
        firstBug = { errorType: error instanceof Error ? error.name : typeof error, frames };
      }
    }
    throw error;
  };
  const logBugs = (): void => {
    if (firstBug !== undefined) options.log.error({ module: provider.id, endpoint, observables: bugs, ...firstBug }, 'unexpected error in a module');
  };
  // Each observable sees the upstream through its own share of the budget and the bytes gate.
  const contextFor = (): { context: ProviderContext<unknown, unknown>; hold: ObservableHold } => {
    const hold = budget.holdForObservable();
    return { context: { ...context, http: budgeted(context.http, budget, hold, provider.id, signal, onDeadline) }, hold };
  };
  // Which observable failed with which error, for the answer's errors and the summary line.
  const failures = new ObservableFailures();
  const run = async <T extends object>(work: (context: ProviderContext<unknown, unknown>, observable: Observable) => Promise<T>) => {
    // Every observable at once: the upstream client's concurrency, the bytes gate and the
    // request's budget bound the calls, not a fixed number of observables (no waves; docs/limits.md).
    const settled = await settleAll(observables, settings.OBSERVABLE_CONCURRENCY, signal, failures.deadline(onDeadline), (observable) => {
      const { context: own, hold } = contextFor();
      return failures.watch(observable, work(own, observable).then(
        async (result) => {
          hold.done();
          // Counting a result's bytes walks every entity (milliseconds for 1000 entities): in a
          // turn of its own, not straight after the provider's mapping of it.
          await turns.next(options.stats);
          budget.admitResult(result);
          return result;
        },
        (error: unknown) => {
          hold.done();
          return noteBug(error);
        },
      ));
    }, options.stats);
    logBugs();
    const { errors, observablesOf } = withBudgetError(settled.errors, provider.displayName, failures.observablesOf(observables));
    return { results: settled.results, errors, observablesOf };
  };

  if (endpoint === 'health') {
    await settleOrThrow([null], signal, onDeadline, async () => {
      const { context: own, hold } = contextFor();
      try {
        await provider.health(own);
      } finally {
        hold.done();
      }
    });
    return { data: { status: 'ok' } };
  }

  if (endpoint === 'refer') {
    if (provider.refer === undefined || observables.length === 0) return { data: [] };
    const refer = provider.refer.bind(provider);
    const settled = await run(async (own, observable) => refer(own, observable));
    const links = new Map<string, ReferLink>();
    for (const link of settled.results.flat()) if (!links.has(link.id)) links.set(link.id, link);
    return envelope([...links.values()], settled.errors, (data) => data.length === 0, settled.observablesOf);
  }

  const implemented = endpoint === 'deliberate' ? provider.deliberate : provider.observe;
  if (implemented === undefined || observables.length === 0) return { data: {} };
  const find = implemented.bind(provider);
  const settled = await run((own, observable) => find(own, observable));
  const bundle = new Bundle();
  for (const result of settled.results) {
    bundle.add(result);
    if (result.errors !== undefined) settled.errors.push(...result.errors);
  }
  const dangling = bundle.danglingRelationships();
  if (dangling.length > 0) options.log.warn({ module: provider.id, dangling: dangling.length }, 'relationships without both ends dropped');
  return envelope(bundle.toData(), settled.errors, (data: BundleData) => Object.keys(data).length === 0, settled.observablesOf);
}

type ObservablesOf = Parameters<typeof uniqueErrors>[1];

/** The observables a budget cut off, as one error that says how many and which budget. */
function withBudgetError(errors: RelayError[], providerName: string, observablesOf: NonNullable<ObservablesOf>): { errors: RelayError[]; observablesOf: NonNullable<ObservablesOf> } {
  let exhausted: BudgetExhausted | undefined;
  let cut = 0;
  const others: RelayError[] = [];
  for (const error of errors) {
    if (error instanceof BudgetExhausted) {
      exhausted ??= error;
      cut += 1;
    } else {
      others.push(error);
    }
  }
  if (exhausted === undefined) return { errors, observablesOf };
  const summary = budgetError(exhausted, cut, providerName);
  const cutOff = exhausted;
  return { errors: [summary, ...others], observablesOf: (error) => observablesOf(error === summary ? cutOff : error) };
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

  async handle(endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply, prefix: string): Promise<Answer | FastifyReply> {
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
      const { answer, budget } = await this.answer(endpoint, request, reply, prefix, summary);
      const retryAfter = retryAfterOf(answer);
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
      summary.errors = (answer.errors ?? []).map((error) => error.code);
      Object.assign(summary, summariseFailedObservables(answer.errors));
      outcome = requestOutcome(answer);
      if (answer.errors !== undefined && !this.deps.settings.ERROR_OBSERVABLES) answer.errors = withoutObservables(answer.errors);
      // A large answer is written in slices, the event loop free between them (answer-stream.ts).
      if (budget.answerBytes < STREAM_ANSWERS_FROM_BYTES) return answer;
      return reply.type('application/json; charset=utf-8').send(answerStream(answer));
    } catch (error) {
      if (error instanceof RelayError && error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      outcome = error instanceof RelayError ? error.code : 'unknown';
      summary.errors = [outcome];
      throw error;
    } finally {
      const durationMs = performance.now() - started;
      request.log.info({ summary: { ...summary, durationMs: Math.round(durationMs) } }, 'relay request');
      this.deps.metrics?.recordRequest({ module: summary.module, endpoint, outcome, observables: summary.observables, durationMs });
    }
  }

  private async answer(
    endpoint: Endpoint,
    request: FastifyRequest,
    reply: FastifyReply,
    prefix: string,
    summary: RequestSummary,
  ): Promise<{ answer: Answer; budget: RequestBudget }> {
    const { provider } = this.module;
    const { settings, admission } = this.deps;
    const access = await this.access(request, prefix, endpointNeedsCredentials(provider, endpoint));
    // Per credential; by client address (TRUST_PROXY decides which) where no credential tells callers apart.
    const admitted = admission?.admit(access.credentials === undefined ? `ip:${request.ip}` : credentialScope(access.credentials));
    const budget = admitted?.budget ?? RequestBudget.fromSettings(settings);
    // Its share of the work in flight is held until the answer is written or the caller is gone.
    if (admitted !== undefined) reply.raw.once('close', admitted.done);
    try {
      const parsed = endpoint === 'health' ? [] : parseObservables(parseJsonBody(request.body), provider.supportedTypes, settings.MAX_OBSERVABLES);
      // The raw body (up to BODY_LIMIT_BYTES) is not needed once parsed.
      request.body = undefined;
      // Private and internal observables are dropped like unsupported ones: no call, no error.
      const { kept: observables, withheld } = this.privacyGuard.partition(parsed);
      if (withheld.length > 0) request.log.debug({ module: provider.id, endpoint, withheld: withheld.length }, 'private or internal observables withheld');
      summary.observables = observables.length;
      const answer = await lookup(this.module, endpoint, observables, { ...access, settings, log: request.log, stats: summary, whenGone: whenClientGone(reply), budget });
      return { answer, budget };
    } catch (error) {
      admitted?.done();
      throw error;
    }
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
