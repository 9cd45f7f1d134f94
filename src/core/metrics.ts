// Prometheus metrics: one registry per app (tests and the CLI build several apps in one process),
// plus the process's own metrics (CPU, memory, event loop), which exist once per process.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AUTH_MESSAGES, RelayError } from './errors.js';
import type { AbortLike } from './abort-hub.js';
import type { UpstreamCallRecord, UpstreamGate } from './upstream.js';
import type { UpstreamFailure } from './upstream-failure.js';

const PREFIX = 'ctr_relay_';
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

export interface RequestRecord {
  module: string;
  endpoint: string;
  /** `ok`, `partial`, or the error code of a request that gave nothing. */
  outcome: string;
  observables: number;
  durationMs: number;
}

let processRegistry: Registry | undefined;

function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'module' | 'endpoint' | 'outcome'>;
  private readonly requestDuration: Histogram<'module' | 'endpoint' | 'outcome'>;
  private readonly observables: Counter<'module' | 'endpoint'>;
  private readonly upstreamCalls: Counter<'provider' | 'call' | 'status'>;
  private readonly upstreamDuration: Histogram<'provider' | 'call'>;
  private readonly upstreamFailures: Counter<'provider' | 'call' | 'cause'>;
  private readonly cacheHits: Counter<'provider'>;
  private readonly cacheMisses: Counter<'provider'>;
  private readonly rateLimitRefusals: Counter<'module'>;
  private readonly includeProcessMetrics: boolean;
  private readonly upstreamChildren = new Map<string, { calls: Counter.Internal; duration: Histogram.Internal<'provider' | 'call'> }>();

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: `${PREFIX}requests_total`,
      help: 'Relay requests (health, deliberate, observe, refer) by module, endpoint and outcome (ok, partial, or the error code).',
      labelNames: ['module', 'endpoint', 'outcome'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: `${PREFIX}request_duration_seconds`,
      help: 'Time to answer a relay request, token check and upstream calls included.',
      labelNames: ['module', 'endpoint', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.observables = new Counter({
      name: `${PREFIX}observables_total`,
      help: 'Observables looked up (supported, valid, distinct) by module and endpoint.',
      labelNames: ['module', 'endpoint'],
      registers,
    });
    this.upstreamCalls = new Counter({
      name: `${PREFIX}upstream_calls_total`,
      help: "Calls to the providers' APIs by provider, call and status (the HTTP status, or the cause class when no answer came: dns, refused, reset, unreachable, timeout, tls, protocol, network, too large, aborted, overloaded).",
      labelNames: ['provider', 'call', 'status'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: `${PREFIX}upstream_call_duration_seconds`,
      help: "Duration of calls to the providers' APIs.",
      labelNames: ['provider', 'call'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.upstreamFailures = new Counter({
      name: `${PREFIX}upstream_failures_total`,
      help: "Failed calls to the providers' APIs by provider, call and cause (dns, refused, reset, unreachable, timeout, tls, protocol, network, http, unparsable, too large, aborted, overloaded).",
      labelNames: ['provider', 'call', 'cause'],
      registers,
    });
    this.cacheHits = new Counter({
      name: `${PREFIX}cache_hits_total`,
      help: 'Upstream answers served from the cache, by provider.',
      labelNames: ['provider'],
      registers,
    });
    this.cacheMisses = new Counter({
      name: `${PREFIX}cache_misses_total`,
      help: 'Cacheable upstream answers not found in the cache, by provider.',
      labelNames: ['provider'],
      registers,
    });
    this.rateLimitRefusals = new Counter({
      name: `${PREFIX}rate_limit_refusals_total`,
      help: "Requests refused by the relay's own rate limit (per credential), by module.",
      labelNames: ['module'],
      registers,
    });
    this.includeProcessMetrics = options.processMetrics !== false;
    if (this.includeProcessMetrics) processMetrics();
  }

  recordRequest(record: RequestRecord): void {
    const labels = { module: record.module, endpoint: record.endpoint, outcome: record.outcome };
    this.requests.inc(labels);
    this.requestDuration.observe(labels, record.durationMs / 1000);
    if (record.observables > 0) this.observables.inc({ module: record.module, endpoint: record.endpoint }, record.observables);
  }

  /** `providerId` rather than the record's display name: labels stay short and stable. */
  recordUpstreamCall(providerId: string, record: UpstreamCallRecord): void {
    // Hundreds of calls per request: the labelled children are looked up once, not hashed each time.
    const status = String(record.outcome);
    const key = `${providerId}\u0000${record.call}\u0000${status}`;
    let children = this.upstreamChildren.get(key);
    if (children === undefined) {
      children = {
        calls: this.upstreamCalls.labels({ provider: providerId, call: record.call, status }),
        duration: this.upstreamDuration.labels({ provider: providerId, call: record.call }),
      };
      // Bounded by the modules' call names and HTTP statuses; the guard only keeps a broken
      // module from growing it.
      if (this.upstreamChildren.size < 10_000) this.upstreamChildren.set(key, children);
    }
    children.calls.inc();
    children.duration.observe(record.durationMs / 1000);
  }

  /** Bounded: the modules' call names times the fixed set of cause classes. */
  recordUpstreamFailure(failure: UpstreamFailure): void {
    this.upstreamFailures.inc({ provider: failure.provider, call: failure.call, cause: failure.cause });
  }

  recordCacheLookup(providerId: string, hit: boolean): void {
    (hit ? this.cacheHits : this.cacheMisses).inc({ provider: providerId });
  }

  recordRateLimitRefusal(moduleId: string): void {
    this.rateLimitRefusals.inc({ module: moduleId });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of this app's metrics, then the process's. */
  async render(): Promise<string> {
    const own = await this.registry.metrics();
    return this.includeProcessMetrics ? `${own}\n${await processMetrics().metrics()}` : own;
  }
}

/**
 * The module's gate (cache, single-flight, rate limit), counted from outside: a call answered
 * without reaching the provider is a cache hit (a shared in-flight call counts as one, as in the
 * request summary), one that reached it a miss, and a `too many requests` refused before any call
 * is the relay's own rate limit.
 */
export function measuredGate(gate: UpstreamGate, providerId: string, metrics: RelayMetrics, options: { cacheEnabled: boolean }): UpstreamGate {
  return {
    request(request, scope, send) {
      let sent = false;
      const counted = (call: typeof request, signal: AbortLike) => {
        sent = true;
        return send(call, signal);
      };
      return gate.request(request, scope, counted).then(
        (response) => {
          if (scope.useCache && options.cacheEnabled) metrics.recordCacheLookup(providerId, !sent);
          return response;
        },
        (error: unknown) => {
          if (!sent && error instanceof RelayError && error.code === 'too many requests') metrics.recordRateLimitRefusal(providerId);
          throw error;
        },
      );
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares digests so the time taken says nothing about how much of the token matched. */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function unauthorized(message: string) {
  return { errors: [{ type: 'fatal' as const, code: 'authorization error' as const, message: `Authorization failed: ${message}` }] };
}

/** `GET /metrics`, behind `Authorization: Bearer <METRICS_TOKEN>` when a token is set. */
export function registerMetricsRoute(app: FastifyInstance, metrics: RelayMetrics, token: string | undefined): void {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'], produces: ['text/plain'] } }, async (request, reply) => {
    if (token !== undefined) {
      const header = request.headers.authorization?.trim() ?? '';
      const [scheme, given, ...rest] = header.split(/\s+/);
      const problem =
        header === ''
          ? AUTH_MESSAGES.noHeader
          : scheme?.toLowerCase() !== 'bearer' || given === undefined || rest.length > 0
            ? AUTH_MESSAGES.wrongType
            : sameToken(given, token)
              ? undefined
              : 'Wrong metrics token';
      if (problem !== undefined) return reply.code(401).header('www-authenticate', 'Bearer').send(unauthorized(problem));
    }
    const text = await metrics.render();
    return reply.header('content-type', metrics.contentType).send(text);
  });
}
