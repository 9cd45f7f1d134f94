// The Enrichment of `lookup` and `mcp` on the enrichment core (src/enrich), with the keys found in
// the environment, over modules mounted behind the gate (in-process.ts). Pivot links are the
// modules' refer alone, through the same relay `lookup()` and privacy guard.
import { RelayError } from '../core/errors.js';
import type { Observable } from '../core/observables.js';
import { endpointNeedsCredentials, lookup, type MountedModule } from '../core/relay.js';
import { isValidObservable } from '../core/validators.js';
import { createEnricher } from '../enrich/enricher.js';
import type { Enrichment, PivotAnswer, PivotLink } from './enrichment.js';
import type { InProcess } from './in-process.js';

export function openEnrichment(runtime: InProcess): Enrichment {
  const { settings, modules, log, credentials } = runtime;
  const enricher = createEnricher({ settings, modules, log });

  const selected = (ids: readonly string[] | undefined): MountedModule[] => {
    if (ids === undefined) return modules;
    const mounted = modules.map((module) => module.provider.id);
    const unknown = ids.filter((id) => !mounted.includes(id));
    if (unknown.length > 0) throw new RelayError('invalid argument', `Unknown provider ${unknown.join(', ')}; the mounted providers are ${mounted.join(', ')}.`);
    return modules.filter((module) => ids.includes(module.provider.id));
  };

  return {
    providers: modules.map(({ provider }) => ({ id: provider.id, name: provider.displayName, supportedTypes: provider.supportedTypes })),
    extract: (text) => enricher.inspect(text),
    guard: (observables) => enricher.guard(observables),
    enrich: (observables, options) =>
      enricher.enrich(observables, {
        credentials,
        ctim: options.ctim,
        ...(options.providers === undefined ? {} : { providers: options.providers }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
      }),

    async pivotLinks(observables, options): Promise<PivotAnswer> {
      const chosen = selected(options.providers).filter((module) => module.provider.refer !== undefined);
      // Valid values only, as the enrichment core and the relay's body parser keep them.
      const { kept, withheld } = enricher.guard(observables.filter((observable) => isValidObservable(observable.type, observable.value)));
      const answers = await Promise.all(
        kept.map(async (observable: Observable) => {
          const links: PivotLink[] = [];
          const errors: PivotAnswer['observables'][number]['errors'] = [];
          await Promise.all(
            chosen
              .filter((module) => module.provider.supportedTypes.includes(observable.type))
              // A provider whose refer calls upstream needs its keys; without them it has no links to give.
              .filter((module) => !endpointNeedsCredentials(module.provider, 'refer') || credentials[module.provider.id] !== undefined)
              .map(async (module) => {
                const stats = { upstreamCalls: 0, cacheHits: 0 };
                const whenGone = options.signal === undefined ? undefined : (abort: () => void) => watch(options.signal as AbortSignal, abort);
                const answer = await lookup(module, 'refer', [observable], {
                  settings,
                  credentials: credentials[module.provider.id],
                  entitiesLimit: settings.CTR_ENTITIES_LIMIT,
                  log,
                  stats,
                  ...(whenGone === undefined ? {} : { whenGone }),
                });
                for (const link of Array.isArray(answer.data) ? (answer.data as { title: string; description: string; url: string }[]) : []) {
                  links.push({ provider: module.provider.id, title: link.title, description: link.description, url: link.url });
                }
                for (const error of answer.errors ?? []) errors.push({ provider: module.provider.id, code: error.code, message: error.message });
              }),
          );
          // In mount order, whichever provider answered first.
          const order = chosen.map((module) => module.provider.id);
          links.sort((a, b) => order.indexOf(a.provider) - order.indexOf(b.provider));
          return { type: observable.type, value: observable.value, links, errors };
        }),
      );
      return { observables: answers, withheld };
    },
  };
}

function watch(signal: AbortSignal, abort: () => void): () => void {
  if (signal.aborted) {
    abort();
    return () => undefined;
  }
  signal.addEventListener('abort', abort, { once: true });
  return () => signal.removeEventListener('abort', abort);
}
