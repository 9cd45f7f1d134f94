// buildApp(): the Fastify server with every mounted module, kept apart from the file that
// listens so tests (and the CLI) build the same app.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Agent } from 'undici';
import { Admission } from './core/admission.js';
import { answerClientError } from './core/client-error.js';
import { loggerOptions } from './core/log-options.js';
import { KeySets, VerifiedTokens } from './core/auth.js';
import type { CacheStore } from './core/cache/store.js';
import { openGateResources, type GateResources } from './core/cached-http.js';
import { RelayError, toRelayError, watchdogError } from './core/errors.js';
import { ProviderMemo } from './core/memo.js';
import { RelayMetrics, measuredGate, registerMetricsRoute } from './core/metrics.js';
import { documented, moduleRouteSchema, registerOpenApi, serverRouteSchemas, type DocumentedEndpoint } from './core/openapi.js';
import type { Provider } from './core/provider.js';
import { ModuleRelay, type Endpoint, type MountedModule } from './core/relay.js';
import { QuietProbesLogController, requestIdFor } from './core/request-logs.js';
import type { Settings } from './core/settings.js';
import { DROP_AT, heapUsed, watchHeap } from './core/heap-pressure.js';
import { serverTimeouts } from './core/timeouts.js';
import { startupReport } from './core/startup.js';
import { UpstreamClient, type TransitBytes } from './core/upstream.js';
import type { Logger } from './core/upstream-failure.js';
import type { ByteGate } from './core/byte-gate.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './core/version.js';
import { PROVIDERS } from './providers/registry.js';
import { registerConsole } from './routes/console.js';
import { registerEnrichRoutes } from './routes/enrich.js';

export { loggerOptions };

export interface AppOptions {
  settings: Settings;
  providers?: readonly Provider[];
  logger?: FastifyServerOptions['logger'];
  /** Tests inject an undici Agent to control upstream TLS; production leaves it unset. */
  agent?: Agent;
  /** The web console's build output; the one next to the code unless a test gives another. */
  consoleDir?: string;
}

export interface RelayApp extends FastifyInstance {
  relay: { shuttingDown: boolean; modules: MountedModule[]; metrics: RelayMetrics; cache: CacheStore | undefined; admission: Admission };
}

/** One upstream client per mounted provider; its calls are counted in `metrics` when given. */
export function mountModules(
  settings: Settings,
  providers: readonly Provider[],
  options: { agent?: Agent; metrics?: RelayMetrics; gates?: GateResources; log?: Logger; upstreamBytes?: ByteGate } = {},
): MountedModule[] {
  // One bound for the answers all providers' calls are receiving at once, and a hard stop when
  // what observables hold is already twice its bound (answers larger than the gate expected) or
  // the heap is nearly full (docs/limits.md).
  const held = options.upstreamBytes;
  const inTransit: TransitBytes = {
    used: 0,
    limit: settings.MAX_UPSTREAM_BYTES_IN_FLIGHT,
    overloaded: () => heapUsed() > DROP_AT || (held !== undefined && held.used + inTransit.used > 2 * held.limit),
  };
  return settings.PROVIDERS.map((id) => {
    const provider = providers.find((candidate) => candidate.id === id);
    if (provider === undefined) throw new Error(`Unknown provider ${id}; known: ${providers.map((p) => p.id).join(', ')}`);
    const { metrics, gates } = options;
    const gate = gates?.gateFor(provider);
    const client = new UpstreamClient({
      providerName: provider.displayName,
      providerId: provider.id,
      timeoutMs: settings.UPSTREAM_TIMEOUT_MS,
      maxBodyBytes: settings.UPSTREAM_MAX_BODY_BYTES,
      concurrency: settings.UPSTREAM_CONCURRENCY,
      inTransit,
      gate: gate === undefined || metrics === undefined ? gate : measuredGate(gate, provider.id, metrics, { cacheEnabled: gates?.cache !== undefined }),
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      ...(metrics === undefined
        ? {}
        : { onCall: (record) => metrics.recordUpstreamCall(provider.id, record), onFailure: (failure) => metrics.recordUpstreamFailure(failure) }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    // Hints live no longer than the answers they came from (see memo.ts).
    const ttlSeconds = settings.cacheTtlSeconds[id] ?? settings.CACHE_TTL_SECONDS;
    const memo = gates?.cache !== undefined && ttlSeconds > 0 ? new ProviderMemo(ttlSeconds) : undefined;
    return { provider, config: settings.providerSettings[id], client, memo };
  });
}

export async function buildApp(options: AppOptions): Promise<RelayApp> {
  const { settings } = options;
  const providers = options.providers ?? PROVIDERS;
  const { requestTimeout, headersTimeout, connectionTimeout, connectionsCheckingInterval } = serverTimeouts(settings);
  const app = Fastify({
    logger: options.logger ?? loggerOptions(settings),
    bodyLimit: settings.BODY_LIMIT_BYTES,
    trustProxy: settings.TRUST_PROXY,
    return503OnClosing: false,
    // The caller's X-Request-Id only when short and plain (request-logs.ts); echoed in onSend below.
    requestIdHeader: false,
    genReqId: requestIdFor,
    logController: new QuietProbesLogController(),
    routerOptions: { ignoreTrailingSlash: true },
    // Room for large tokens to reach the auth check and get its error; beyond this, 431.
    http: { maxHeaderSize: 32 * 1024, requestTimeout, headersTimeout, connectionsCheckingInterval },
    // Slow clients (docs/limits.md): the whole request within REQUEST_DEADLINE_MS.
    requestTimeout,
    connectionTimeout,
    clientErrorHandler: answerClientError,
  }) as unknown as RelayApp;

  const metrics = new RelayMetrics();
  // Redis or cache trouble degrades to calling the provider; say so, but not once per lookup.
  let lastStoreWarning = 0;
  const gates = await openGateResources(settings, (error) => {
    if (Date.now() - lastStoreWarning < 10_000) return;
    lastStoreWarning = Date.now();
    app.log.warn({ err: error }, 'cache or rate-limit store failing; calling providers without it');
  });
  // The bound on the work in flight across requests (docs/limits.md).
  const admission = new Admission(settings);
  const stopWatchingHeap = watchHeap();
  const modules = mountModules(settings, providers, {
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    metrics,
    gates,
    log: app.log,
    upstreamBytes: admission.upstreamBytes,
  });
  app.decorate('relay', { shuttingDown: false, modules, metrics, cache: gates.cache, admission });
  const startup = startupReport(settings, modules.map(({ provider }) => ({ id: provider.id, needsCredentials: provider.credentialsSchema !== null })));
  app.log.info(startup.fields, 'relay starting');
  for (const warning of startup.warnings) app.log.warn(warning);
  // Before any route: the generator records the routes added after it.
  await registerOpenApi(app, {
    title: PACKAGE_NAME,
    version: PACKAGE_VERSION,
    description: 'Threat-intelligence relay for Cisco Threat Response / XDR. Each module is mounted under its id.',
  }, { enabled: settings.DOCS });

  // Bodies are parsed by the relay itself whatever their content type (Threat Response and curl
  // differ), so that every malformed body gets the contract's error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const path = route.url.replace(/\/+$/, '') || '/';
    const known = methodsByPath.get(path) ?? new Set<string>();
    for (const method of methods) known.add(method);
    methodsByPath.set(path, known);
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof RelayError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.httpStatus).send({ errors: [error.toDocument()] });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        errors: [{ type: 'fatal', code: 'invalid argument', message: `The request body is larger than ${settings.BODY_LIMIT_BYTES} bytes.` }],
      });
    }
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ errors: [{ type: 'fatal', code: 'invalid argument', message: `The request was refused: ${(error as Error).message}` }] });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply.code(200).send({ errors: [toRelayError(error).toDocument()] });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '/').replace(/\/+$/, '') || '/';
    const allowed = methodsByPath.get(path);
    if (allowed !== undefined && !allowed.has(request.method)) {
      const allow = [...allowed].filter((method) => method !== 'HEAD').join(', ');
      return reply
        .code(405)
        .header('allow', allow)
        .send({ errors: [{ type: 'fatal', code: 'invalid argument', message: `Method ${request.method} is not allowed here; use ${allow}.` }] });
    }
    return reply.code(404).send({ errors: [{ type: 'fatal', code: 'not found', message: `Nothing is served at ${path}.` }] });
  });

  const keySets = new KeySets();
  const verifiedTokens = new VerifiedTokens();
  app.get('/', documented(serverRouteSchemas.root), async () => ({
    name: PACKAGE_NAME,
    version: PACKAGE_VERSION,
    modules: modules.map(({ provider }) => ({ id: provider.id, name: provider.displayName, path: `/${provider.id}` })),
  }));
  app.get('/healthz', documented(serverRouteSchemas.liveness), async () => ({ status: 'ok' }));
  app.get('/readyz', documented(serverRouteSchemas.readiness), async (_request, reply) => {
    if (app.relay.shuttingDown) {
      return reply.code(503).send({ errors: [{ type: 'fatal', code: 'service unavailable', message: 'The relay is shutting down.' }] });
    }
    return { status: 'ready' };
  });

  const prefixes = modules.length === 1 ? ['', undefined] : [undefined];
  for (const module of modules) {
    const relay = new ModuleRelay(module, { settings, keySets, verifiedTokens, metrics, admission });
    for (const rootPrefix of prefixes) {
      const prefix = rootPrefix ?? `/${module.provider.id}`;
      registerModuleRoutes(app, relay, prefix);
    }
  }

  registerEnrichRoutes(app, { settings, modules, keySets, verifiedTokens, log: app.log, admission });
  registerMetricsRoute(app, metrics, settings.METRICS_TOKEN);
  registerConsole(app, { settings, modules, ...(options.consoleDir === undefined ? {} : { dir: options.consoleDir }) });

  // Every answer names its request (the id in its log lines). While draining, every answer closes
  // its connection, so keep-alive clients do not hold the server open after their last request.
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    if (app.relay.shuttingDown) reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onClose', async () => {
    stopWatchingHeap();
    await Promise.all(modules.map((module) => module.client.close()));
    await gates.close();
  });
  return app;
}

function registerModuleRoutes(app: FastifyInstance, relay: ModuleRelay, prefix: string): void {
  const endpoints: [string, Endpoint][] = [
    ['/health', 'health'],
    ['/deliberate/observables', 'deliberate'],
    ['/observe/observables', 'observe'],
    ['/refer/observables', 'refer'],
  ];
  const schema = (endpoint: DocumentedEndpoint) => documented(moduleRouteSchema(relay.provider, endpoint));
  for (const [path, endpoint] of endpoints) {
    app.post(`${prefix}${path}`, schema(endpoint), (request, reply) => relay.handle(endpoint, request, reply, prefix));
  }
  app.post(`${prefix}/version`, schema('version'), async () => ({ version: PACKAGE_VERSION }));
  app.get(`${prefix}/watchdog`, schema('watchdog'), async (request) => {
    const value = request.headers['health-check'];
    if (value === undefined) throw watchdogError();
    return { data: Array.isArray(value) ? value.join(', ') : value };
  });
}
