// The enrichment core (../../shared/spec/enrich-api.md): every mounted provider that supports an
// observable runs its observe and refer for it, concurrently, through the same upstream gate as
// the relay modules (the relay's own `lookup()`, so cache, single-flight, rate limits, cool-downs
// and the request deadline apply), and the answers become one summary per provider and one
// consensus per observable. Names no provider: it works on whatever app.ts `mountModules` mounted.
//
//   const enricher = createEnricher({ settings, modules, log });
//   enricher.providers()                  → ProviderInfo[]       (GET /enrich/providers)
//   enricher.inspect(text)                → { observables, withheld }   (POST /enrich/inspect)
//   enricher.guard(observables)           → { kept, withheld }   (the privacy guard alone)
//   await enricher.enrich(observables, {
//     credentials: { xforce: {key, password}, … },  // validated; absent → `skipped: no credentials`
//     providers?: ['xforce', 'otx'],                 // only these (unknown ids: invalid argument)
//     ctim?: false,                                  // leave each provider's observe answer out
//     entitiesLimit?, signal?,                       // the caller going away ends the work
//     onEvent?: (event) => …,                        // the NDJSON lines, as they happen
//   })                                    → EnrichAnswer          (POST /enrich/observables)
//
// Partial failures never fail the answer: a provider that fails is `status: "error"` for that
// observable. The only thrown errors are the caller's mistakes (an unknown provider id).
import type { FastifyBaseLogger } from 'fastify';
import { ENDED, whenAborted } from '../core/abort-hub.js';
import { RequestBudget } from '../core/budget.js';
import { boundedRunner, type BoundedRunner } from '../core/concurrency.js';
import { describeCredentialFields } from '../core/credential-fields.js';
import { RelayError } from '../core/errors.js';
import type { Observable } from '../core/observables.js';
import { createPrivacyGuard, type PrivacyGuard, type WithheldObservable } from '../core/privacy-guard.js';
import { lookup, type Answer, type LookupOptions, type MountedModule } from '../core/relay.js';
import type { Settings } from '../core/settings.js';
import type { CallStats } from '../core/upstream.js';
import { isObservableType, isValidObservable } from '../core/validators.js';
import { extractObservables } from './extract.js';
import { consensusOf, summariseProvider } from './summary.js';
import type { EnrichAnswer, EnrichEvent, EnrichOptions, EnrichedObservable, Inspection, ProviderInfo, ProviderResult } from './types.js';

export interface EnricherDependencies {
  settings: Settings;
  /** The mounted modules (app.ts `mountModules`), in mount order: the order of every provider list. */
  modules: readonly MountedModule[];
  log: FastifyBaseLogger;
}

export interface Enricher {
  providers(): ProviderInfo[];
  inspect(text: string): Inspection;
  guard(observables: readonly Observable[]): { kept: Observable[]; withheld: WithheldObservable[] };
  enrich(observables: readonly Observable[], options: EnrichOptions): Promise<EnrichAnswer>;
}

export const NO_CREDENTIALS = 'no credentials';

function deadlineError(module: MountedModule, settings: Settings): RelayError {
  return new RelayError(
    'service unavailable',
    `${module.provider.displayName} did not answer within the request deadline of ${settings.REQUEST_DEADLINE_MS} ms.`,
  );
}

/** Valid, first-seen observables (types lower-cased), as the relay's body parser keeps them. */
function usableObservables(observables: readonly Observable[]): Observable[] {
  const seen = new Set<string>();
  const out: Observable[] = [];
  for (const { type: rawType, value } of observables) {
    const type = rawType.toLowerCase();
    if (!isObservableType(type) || !isValidObservable(type, value)) continue;
    const key = `${type}\u0000${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ type, value });
  }
  return out;
}

export function createEnricher(dependencies: EnricherDependencies): Enricher {
  const { settings, modules } = dependencies;
  const privacyGuard: PrivacyGuard = createPrivacyGuard(settings);
  const infos: ProviderInfo[] = modules.map(({ provider }) => ({
    id: provider.id,
    name: provider.displayName,
    supported_types: [...provider.supportedTypes],
    credentials: describeCredentialFields(provider),
  }));

  function selectModules(ids: readonly string[] | undefined): readonly MountedModule[] {
    if (ids === undefined) return modules;
    const mounted = modules.map((module) => module.provider.id);
    const unknown = ids.filter((id) => !mounted.includes(id));
    if (unknown.length > 0) {
      throw new RelayError('invalid argument', `Unknown provider ${unknown.join(', ')}; the mounted providers are ${mounted.join(', ')}.`);
    }
    return modules.filter((module) => ids.includes(module.provider.id));
  }

  async function enrich(input: readonly Observable[], options: EnrichOptions): Promise<EnrichAnswer> {
    const log = options.log ?? dependencies.log;
    const selected = selectModules(options.providers);
    const { kept, withheld } = privacyGuard.partition(usableObservables(input));
    if (withheld.length > 0) log.debug({ withheld: withheld.length }, 'private or internal observables withheld');
    const emit = options.onEvent ?? (() => undefined);
    const ctim = options.ctim ?? true;

    // One deadline for the whole request, however long a lookup waited for its turn.
    const request = new AbortController();
    const timer = setTimeout(() => request.abort(ENDED), settings.REQUEST_DEADLINE_MS);
    const stopWatchingCaller = options.signal === undefined ? undefined : whenAborted(options.signal, () => request.abort(ENDED));
    if (options.signal?.aborted === true) request.abort(ENDED);
    const whenGone = (abort: () => void): (() => void) => {
      if (request.signal.aborted) {
        abort();
        return () => undefined;
      }
      return whenAborted(request.signal, abort);
    };

    // What every lookup() of this request shares: its stats, its deadline and caller, and its
    // request budget (upstream calls, entities, answer bytes across every provider; docs/limits.md).
    const shared: Omit<LookupOptions, 'credentials'> = {
      settings,
      entitiesLimit: options.entitiesLimit ?? settings.CTR_ENTITIES_LIMIT,
      log,
      stats: { upstreamCalls: 0, cacheHits: 0 } satisfies CallStats,
      whenGone,
      budget: options.budget ?? RequestBudget.fromSettings(settings),
    };
    // Per provider: one options object for the whole request (its credential), and a bound on how
    // many observables run at once, as the relay bounds one module request.
    const perModule = new Map<MountedModule, { options: LookupOptions; runner: BoundedRunner }>();
    for (const module of selected) {
      const count = kept.filter((observable) => module.provider.supportedTypes.includes(observable.type)).length;
      perModule.set(module, {
        options: { ...shared, credentials: options.credentials[module.provider.id] },
        runner: boundedRunner(count, settings.OBSERVABLE_CONCURRENCY),
      });
    }

    const runProvider = async (module: MountedModule, observable: Observable): Promise<ProviderResult> => {
      const { provider } = module;
      const identity = { id: provider.id, name: provider.displayName };
      const credentials = options.credentials[provider.id];
      if (provider.credentialsSchema !== null && credentials === undefined) return { ...identity, status: 'skipped', reason: NO_CREDENTIALS };
      const { options: lookupOptions, runner } = perModule.get(module) as { options: LookupOptions; runner: BoundedRunner };
      return runner.run(async () => {
        if (request.signal.aborted) return { ...identity, status: 'error', error: deadlineError(module, settings).toDocument() };
        const [observe, refer] = await Promise.all([
          lookup(module, 'observe', [observable], lookupOptions),
          provider.refer === undefined ? Promise.resolve<Answer | undefined>(undefined) : lookup(module, 'refer', [observable], lookupOptions),
        ]);
        return summariseProvider(identity, observe, refer, { ctim });
      });
    };

    try {
      const enriched = await Promise.all(
        kept.map(async (observable): Promise<EnrichedObservable> => {
          const supporting = selected.filter((module) => module.provider.supportedTypes.includes(observable.type));
          const results = await Promise.all(
            supporting.map(async (module) => {
              const result = await runProvider(module, observable).catch((error: unknown) => failure(module, error, log));
              emit({ observable, provider: result });
              return result;
            }),
          );
          const verdict = consensusOf(results);
          emit({ observable, verdict });
          return { type: observable.type, value: observable.value, verdict, providers: results };
        }),
      );
      emit({ done: true, withheld });
      return { observables: enriched, withheld };
    } finally {
      clearTimeout(timer);
      stopWatchingCaller?.();
    }
  }

  // lookup() keeps failures in its answer; this is only for a bug that escapes it.
  function failure(module: MountedModule, error: unknown, log: FastifyBaseLogger): ProviderResult {
    const relayError = error instanceof RelayError ? error : new RelayError('unknown', 'Something went wrong.');
    if (!(error instanceof RelayError)) log.error({ module: module.provider.id, errorType: error instanceof Error ? error.name : typeof error }, 'unexpected error in enrichment');
    return { id: module.provider.id, name: module.provider.displayName, status: 'error', error: { code: relayError.code, message: relayError.message } };
  }

  return {
    providers: () => infos.map((info) => ({ ...info, supported_types: [...info.supported_types], credentials: info.credentials.map((field) => ({ ...field })) })),
    inspect: (text) => extractObservables(text, privacyGuard),
    guard: (observables) => privacyGuard.partition(observables),
    enrich,
  };
}

export type { EnrichEvent };
