// The enrichment API over HTTP (../../shared/spec/enrich-api.md): a front door on src/enrich, so
// it parses input, resolves credentials and renders answers, nothing else.
//   GET  /enrich/providers     no token: what a client must ask the analyst for
//   POST /enrich/inspect       {"text"} → observables and withheld ones; no token, no upstream call
//   POST /enrich/observables   the relay API's body; ?providers=a,b ?ctim=false; JSON, or NDJSON
//                              lines as they arrive with `Accept: application/x-ndjson`
// Credentials come from ONE place, `enrichCredentials(request)`: a multi-provider token today,
// the console's sealed session cookie next to it.
import { PassThrough } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import { ENDED } from '../core/abort-hub.js';
import { verifyToken, type KeySets, type VerifiedTokens } from '../core/auth.js';
import { AUTH_MESSAGES, RelayError, authorizationError, invalidPayload } from '../core/errors.js';
import { parseJsonBody, parseObservables } from '../core/observables.js';
import { documented } from '../core/openapi.js';
import type { Admission } from '../core/admission.js';
import { credentialScope, type MountedModule } from '../core/relay.js';
import { parseEntitiesLimit, type Settings } from '../core/settings.js';
import { OBSERVABLE_TYPES } from '../core/validators.js';
import { createEnricher, type Enricher } from '../enrich/enricher.js';
import type { EnrichEvent } from '../enrich/types.js';
import { consoleSessionCredentials } from './console-session.js';
import { enrichRouteSchemas } from './enrich-openapi.js';

export const ENRICH_PREFIX = '/enrich';
export const NDJSON = 'application/x-ndjson';

export interface EnrichRouteDependencies {
  settings: Settings;
  modules: readonly MountedModule[];
  keySets: KeySets;
  verifiedTokens?: VerifiedTokens;
  log: FastifyBaseLogger;
  /** Bounds the work in flight across requests, as for the relay modules (src/core/admission.ts). */
  admission?: Admission;
}

/** What a request may use: each provider's credentials (validated by its schema) and the entities limit. */
export interface EnrichAccess {
  credentials: Record<string, unknown>;
  entitiesLimit: number;
}

/** The URL a multi-provider token may be addressed to (its optional `aud`). */
export function enrichAudience(request: FastifyRequest, settings: Settings): string {
  const base = (settings.PUBLIC_URL ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
  return `${base}${ENRICH_PREFIX}`;
}

// A remembered token's payload is the same object on every request (see VerifiedTokens).
const accessByPayload = new WeakMap<JWTPayload, EnrichAccess>();

/** A verified multi-provider payload → credentials per mounted provider; a malformed entry fails the request. */
export function accessFromPayload(payload: JWTPayload, modules: readonly MountedModule[], settings: Settings): EnrichAccess {
  const known = accessByPayload.get(payload);
  if (known !== undefined) return known;
  const credentials: Record<string, unknown> = {};
  for (const { provider } of modules) {
    if (provider.credentialsSchema === null) continue;
    const entry = (payload as Record<string, unknown>)[provider.id];
    // Absent: the provider is skipped (`no credentials`); other keys (exp, aud, unknown ids) are ignored.
    if (entry === undefined || entry === null) continue;
    const parsed = provider.credentialsSchema.safeParse(entry);
    if (!parsed.success) throw authorizationError(AUTH_MESSAGES.wrongPayload);
    credentials[provider.id] = parsed.data;
  }
  const access = { credentials, entitiesLimit: parseEntitiesLimit(payload.CTR_ENTITIES_LIMIT, settings.CTR_ENTITIES_LIMIT) };
  accessByPayload.set(payload, access);
  return access;
}

/**
 * The credentials of an enrichment request, from its `Authorization: Bearer` multi-provider token
 * (HS256 with SECRET_KEY; errors are the relay API's `authorization error`s). The one place to add
 * another source (the console's encrypted session cookie).
 */
export async function enrichCredentials(request: FastifyRequest, dependencies: EnrichRouteDependencies): Promise<EnrichAccess> {
  const { settings, keySets, verifiedTokens, modules } = dependencies;
  // The console's session (src/routes/console-session.ts), when the request carries no token:
  // refused without the console's X-Requested-By header, expired or unreadable.
  if (request.headers.authorization === undefined) {
    const session = await consoleSessionCredentials(request, settings);
    if (session !== undefined) return accessFromPayload(session, modules, settings);
  }
  const payload = await verifyToken(request.headers.authorization, [enrichAudience(request, settings)], settings, keySets, verifiedTokens);
  return accessFromPayload(payload, modules, settings);
}

function queryOf(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}

/** `?providers=xforce,otx` (repeated or comma-separated); undefined when absent. */
function providersParameter(request: FastifyRequest): string[] | undefined {
  const raw = queryOf(request).providers;
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((value) => String(value).split(','));
  const ids = [...new Set(values.map((value) => value.trim()).filter((value) => value !== ''))];
  if (ids.length === 0) throw new RelayError('invalid argument', 'The providers parameter names no provider; leave it out to ask every provider.');
  return ids;
}

function ctimParameter(request: FastifyRequest): boolean {
  const raw = queryOf(request).ctim;
  if (raw === undefined) return true;
  const value = String(Array.isArray(raw) ? raw[raw.length - 1] : raw).trim().toLowerCase();
  if (['true', '1', 'yes', 'on', ''].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new RelayError('invalid argument', `The ctim parameter accepts true or false (got ${JSON.stringify(String(raw))}).`);
}

function wantsNdjson(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.toLowerCase().includes(NDJSON);
}

function inspectText(body: unknown): string {
  const json = parseJsonBody(body);
  const text = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>).text : undefined;
  if (typeof text !== 'string') throw invalidPayload('Expected an object with the text to inspect: {"text": "…"}.');
  return text;
}

/** Answers of this API are per caller and may hold what the caller's keys bought: never cached. */
function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}

/** The enrichment routes, on the modules app.ts mounted; one call from buildApp. */
export function registerEnrichRoutes(app: FastifyInstance, dependencies: EnrichRouteDependencies): Enricher {
  const { settings, modules } = dependencies;
  const enricher = createEnricher({ settings, modules, log: dependencies.log });

  app.get(`${ENRICH_PREFIX}/providers`, documented(enrichRouteSchemas.providers), async () => ({ data: enricher.providers() }));

  app.post(`${ENRICH_PREFIX}/inspect`, documented(enrichRouteSchemas.inspect), async (request, reply) => {
    const inspection = enricher.inspect(inspectText(request.body));
    request.log.debug({ observables: inspection.observables.length, withheld: inspection.withheld.length }, 'enrich inspect');
    noStore(reply);
    return { data: inspection };
  });

  app.post(`${ENRICH_PREFIX}/observables`, documented(enrichRouteSchemas.observables), async (request, reply) => {
    const started = performance.now();
    // Everything that can fail the request is checked before a byte of a stream is written.
    const access = await enrichCredentials(request, dependencies);
    const observables = parseObservables(parseJsonBody(request.body), OBSERVABLE_TYPES, settings.MAX_OBSERVABLES);
    const providers = providersParameter(request);
    const ctim = ctimParameter(request);
    // Per set of credentials; by client address (TRUST_PROXY decides which) when the request has none.
    const hasCredentials = Object.keys(access.credentials).length > 0;
    const admitted = dependencies.admission?.admit(hasCredentials ? credentialScope(access.credentials) : `ip:${request.ip}`);
    // Its share of the work in flight is held until the answer is written or the caller is gone.
    if (admitted !== undefined) reply.raw.once('close', admitted.done);
    const gone = new AbortController();
    const closed = (): void => {
      if (!reply.raw.writableFinished) gone.abort(ENDED);
    };
    reply.raw.once('close', closed);
    const options = {
      ...access,
      ctim,
      signal: gone.signal,
      log: request.log,
      ...(providers === undefined ? {} : { providers }),
      ...(admitted === undefined ? {} : { budget: admitted.budget }),
    };
    const logSummary = (withheld: number): void =>
      request.log.info(
        { summary: { endpoint: 'enrich', observables: observables.length, withheld, durationMs: Math.round(performance.now() - started) } },
        'enrich request',
      );

    if (!wantsNdjson(request)) {
      try {
        const answer = await enricher.enrich(observables, options);
        logSummary(answer.withheld.length);
        noStore(reply);
        return { data: answer };
      } finally {
        reply.raw.off('close', closed);
      }
    }

    // An unknown provider id is the caller's mistake: say so as JSON, before the stream starts.
    if (providers !== undefined) {
      const mounted = modules.map((module) => module.provider.id);
      const unknown = providers.filter((id) => !mounted.includes(id));
      if (unknown.length > 0) {
        reply.raw.off('close', closed);
        throw new RelayError('invalid argument', `Unknown provider ${unknown.join(', ')}; the mounted providers are ${mounted.join(', ')}.`);
      }
    }
    const stream = new PassThrough();
    const write = (event: EnrichEvent): void => {
      if (!stream.destroyed) stream.write(`${JSON.stringify(event)}\n`);
    };
    noStore(reply)
      .header('content-type', `${NDJSON}; charset=utf-8`)
      .header('x-content-type-options', 'nosniff')
      // Reverse proxies (nginx) would otherwise hold the lines back until the answer is complete.
      .header('x-accel-buffering', 'no');
    void enricher
      .enrich(observables, { ...options, onEvent: write })
      .then((answer) => logSummary(answer.withheld.length))
      .catch((error: unknown) => {
        // Only a bug gets here (partial failures are in the lines); end the stream with the contract's error.
        request.log.error({ errorType: error instanceof Error ? error.name : typeof error }, 'enrichment failed while streaming');
        const document = error instanceof RelayError ? error.toDocument() : { type: 'fatal', code: 'unknown', message: 'Something went wrong.' };
        if (!stream.destroyed) stream.write(`${JSON.stringify({ errors: [document] })}\n`);
      })
      .finally(() => {
        reply.raw.off('close', closed);
        stream.end();
      });
    return reply.send(stream);
  });

  return enricher;
}
