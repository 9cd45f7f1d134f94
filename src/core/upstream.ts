// Upstream HTTP for every provider: one keep-alive pool per provider (undici Agent), a time
// limit per call, a cap on in-flight calls and on answer size, and every failure turned into
// the contract's error codes. Redirects are never followed.
import { setMaxListeners } from 'node:events';
import { Agent, errors as undiciErrors } from 'undici';
import pLimit, { type LimitFunction } from 'p-limit';
import { RelayError, keyError, sslError, tooManyRequests, unavailable } from './errors.js';

export interface UpstreamUrl {
  origin: string;
  /** Already encoded; sent as is (never normalised, so an encoded value cannot become `..`). */
  path: string;
}

export interface UpstreamRequest {
  /** What the call is for (`report`, `resolve`, …): for logs, metrics and cache keys. */
  call: string;
  url: UpstreamUrl;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface UpstreamCallRecord {
  provider: string;
  call: string;
  /** HTTP status, or the error code when no answer came. */
  outcome: number | string;
  durationMs: number;
}

/** What one request's calls add up to, for its summary log line. */
export interface CallStats {
  upstreamCalls: number;
  cacheHits: number;
}

/** The upstream HTTP a provider sees: bound to one relay request (its deadline and credential). */
export interface Http {
  request(request: UpstreamRequest): Promise<UpstreamResponse>;
}

/** One relay request as the gate in front of a provider sees it. */
export interface RequestScope {
  signal: AbortSignal;
  stats: CallStats;
  /** A hash of the credential ('' without one). */
  credentialScope: string;
  /** Epoch milliseconds by which the relay answers (rate-limit waits must end well before). */
  deadlineAt: number;
  /** False for health checks: they always reach the provider. */
  useCache: boolean;
}

export type SendUpstream = (request: UpstreamRequest, signal: AbortSignal) => Promise<UpstreamResponse>;

/** Cache, single-flight and rate limits in front of a provider (cached-http.ts). */
export interface UpstreamGate {
  request(request: UpstreamRequest, scope: RequestScope, send: SendUpstream): Promise<UpstreamResponse>;
}

export interface UpstreamOptions {
  providerName: string;
  timeoutMs: number;
  maxBodyBytes: number;
  concurrency: number;
  /** Tests use a client whose TLS settings they control; production leaves this unset. */
  agent?: Agent;
  /** Without one, every call goes upstream. */
  gate?: UpstreamGate;
  onCall?: (record: UpstreamCallRecord) => void;
}

function encodeSegment(segment: string): string {
  const encoded = encodeURIComponent(segment);
  // '.' and '..' are the only segments a server would resolve; nothing else can move the path.
  return encoded === '.' || encoded === '..' ? encoded.replace(/\./g, '%2E') : encoded;
}

/**
 * `base` + encoded path segments + query. Every value is encoded for its place, so no value can
 * change which endpoint is called.
 */
export function upstreamUrl(base: string, segments: readonly string[] = [], query: Record<string, string> = {}): UpstreamUrl {
  const url = new URL(base);
  const basePath = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const search = new URLSearchParams(query).toString();
  const path = basePath + segments.map(encodeSegment).join('/') + (search === '' ? '' : `?${search}`);
  return { origin: url.origin, path };
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

function tlsReason(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth += 1) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && TLS_CODES.has(code)) {
      const text = typeof message === 'string' && message !== '' ? message : code;
      return text.charAt(0).toUpperCase() + text.slice(1);
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export class UpstreamClient {
  readonly providerName: string;
  private readonly agent: Agent;
  private readonly limit: LimitFunction;
  private readonly ownsAgent: boolean;

  constructor(private readonly options: UpstreamOptions) {
    this.providerName = options.providerName;
    this.ownsAgent = options.agent === undefined;
    this.agent =
      options.agent ??
      new Agent({
        connections: options.concurrency,
        keepAliveTimeout: 30_000,
        connect: { timeout: Math.min(options.timeoutMs, 10_000) },
      });
    this.limit = pLimit(options.concurrency);
  }

  request(request: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse> {
    return this.limit(() => this.send(request, signal));
  }

  /**
   * The client as one relay request uses it. `credentialScope` is a hash of the credential (never
   * the credential), so anything shared between requests can be kept apart per credential.
   */
  forRequest(signal: AbortSignal, stats: CallStats, credentialScope = '', options: { deadlineAt?: number; useCache?: boolean } = {}): Http {
    // Every call of the request listens to its signal while in flight; a request of 50
    // observables has 50 such listeners, which is no leak, so Node need not warn about it.
    setMaxListeners(0, signal);
    const send: SendUpstream = (request, callSignal) => {
      stats.upstreamCalls += 1;
      return this.request(request, callSignal);
    };
    const gate = this.options.gate;
    if (gate === undefined) return { request: (request) => send(request, signal) };
    const scope: RequestScope = {
      signal,
      stats,
      credentialScope,
      deadlineAt: options.deadlineAt ?? Number.POSITIVE_INFINITY,
      useCache: options.useCache ?? true,
    };
    return { request: (request) => gate.request(request, scope, send) };
  }

  private async send(request: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse> {
    const started = performance.now();
    // A timer cleared when the call ends (not AbortSignal.timeout(), which lives on for the whole
    // time limit, and under load holds thousands of finished calls' listeners in memory).
    const call = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      call.abort();
    }, this.options.timeoutMs);
    const callerGone = (): void => call.abort();
    signal?.addEventListener('abort', callerGone, { once: true });
    const combined = call.signal;
    let outcome: number | string = 'error';
    try {
      if (combined.aborted || signal?.aborted === true) throw new DOMException('aborted', 'AbortError');
      const answer = await this.agent.request({
        origin: request.url.origin,
        path: request.url.path,
        method: request.method ?? 'GET',
        headers: { accept: 'application/json', 'user-agent': 'ctr-relay', ...request.headers },
        body: request.body ?? null,
        signal: combined,
      });
      outcome = answer.statusCode;
      const body = await this.readBody(answer.body);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(answer.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      return { status: answer.statusCode, headers, body };
    } catch (error) {
      const relayError = this.toRelayError(error, timedOut);
      outcome = relayError.code;
      throw relayError;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', callerGone);
      this.options.onCall?.({
        provider: this.providerName,
        call: request.call,
        outcome,
        durationMs: performance.now() - started,
      });
    }
  }

  private async readBody(body: AsyncIterable<Buffer> & { destroy?: (error?: Error) => void }): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += chunk.length;
      if (size > this.options.maxBodyBytes) {
        body.destroy?.();
        throw new RelayError('unknown', `The answer of ${this.providerName} is larger than ${this.options.maxBodyBytes} bytes.`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private toRelayError(error: unknown, timedOut: boolean): RelayError {
    if (error instanceof RelayError) return error;
    const reason = tlsReason(error);
    if (reason !== undefined) return sslError(reason);
    if (timedOut) return unavailable(this.providerName, error);
    if (error instanceof undiciErrors.RequestAbortedError || (error as { name?: string } | null)?.name === 'AbortError') {
      return unavailable(this.providerName, error);
    }
    // Refused, reset, DNS failure, socket closed, header/body time-outs: the provider is unreachable.
    return unavailable(this.providerName, error);
  }

  async close(): Promise<void> {
    if (this.ownsAgent) await this.agent.close();
  }
}

/** The answer's body as JSON, or the contract's `key error` when it is not JSON at all. */
export function parseJson(response: UpstreamResponse, providerName: string): unknown {
  try {
    return JSON.parse(response.body) as unknown;
  } catch {
    throw keyError(providerName);
  }
}

/** The answer's Retry-After (seconds or an HTTP date) in whole seconds, when it has one. */
export function retryAfterSeconds(response: UpstreamResponse): number | undefined {
  const header = response.headers['retry-after'];
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * The contract's error for an upstream status that is not a success. Providers pass overrides
 * where their API gives a status another meaning (OTX's 403 is a bad key, say).
 */
export function statusError(
  response: UpstreamResponse,
  providerName: string,
  overrides: Partial<Record<number, RelayError['code']>> = {},
): RelayError {
  const status = response.status;
  const code = overrides[status] ?? defaultCode(status);
  switch (code) {
    case 'authorization error':
      return new RelayError(code, `Authorization failed: Authorization failed on ${providerName} side`);
    case 'too many requests':
      return tooManyRequests(providerName, retryAfterSeconds(response));
    case 'service unavailable':
      return unavailable(providerName);
    case 'not found':
      return new RelayError(code, `The ${providerName} not found.`);
    default:
      return new RelayError(code, `Unexpected response from ${providerName}: ${status}`);
  }
}

function defaultCode(status: number): RelayError['code'] {
  if (status === 400) return 'invalid argument';
  if (status === 401) return 'authorization error';
  if (status === 403) return 'permission denied';
  if (status === 404) return 'not found';
  if (status === 429) return 'too many requests';
  if (status >= 500) return 'service unavailable';
  return 'unknown';
}
