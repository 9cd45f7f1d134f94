// Upstream HTTP for every provider: one keep-alive pool per provider (undici Agent), a time
// limit per call, a cap on in-flight calls and on answer size, and every failure turned into
// the contract's error codes. Redirects are never followed.
import { Agent, type Dispatcher } from 'undici';
import pLimit, { type LimitFunction } from 'p-limit';
import { whenAborted, type AbortLike } from './abort-hub.js';
import { RelayError, keyError, sslError, tooManyRequests, unavailable } from './errors.js';
import { turns } from './turns.js';
import {
  classifyTransportError,
  logFailure,
  reportAnswerFailure,
  tlsVerifyReason,
  type FailureSink,
  type Logger,
  type SentCall,
  type UpstreamFailure,
} from './upstream-failure.js';

type DispatchHandler = Dispatcher.DispatchHandler;
type DispatchController = Dispatcher.DispatchController;

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
  /**
   * Set by the relay (relay.ts): the observable's share of the upstream bytes gate, taken only
   * when the call really goes upstream. A cache hit or a call shared with one in flight brings no
   * new bytes, so it never waits for room (a cached lookup is not queued behind a huge request).
   */
  hold?: SendHold;
  /**
   * Set by withinHold(): told the answer's size once it has been received, before it waits for
   * its turn (turns.ts), so that the gate counts it from then on.
   */
  arrived?: (bytes: number) => void;
}

export interface SendHold {
  /** Reserves room for the answer; a promise when it must wait for it (rejected when the request ends first). */
  before(): Promise<void> | undefined;
  /** What the call brought (undefined when it failed). */
  after(bytes: number | undefined): void;
}

/**
 * `send()` inside the request's hold, when it has one: room reserved first; what came is counted
 * as soon as it has been received (through `arrived`), or when the call ends without an answer.
 */
export function withinHold(request: UpstreamRequest, send: (request: UpstreamRequest) => Promise<UpstreamResponse>): Promise<UpstreamResponse> {
  const hold = request.hold;
  if (hold === undefined) return send(request);
  let settled = false;
  const count = (bytes: number | undefined): void => {
    if (settled) return;
    settled = true;
    hold.after(bytes);
  };
  const counted = (): Promise<UpstreamResponse> => {
    const call = send({ ...request, arrived: count });
    call.then(
      (response) => count(response.body.length),
      () => count(undefined),
    );
    return call;
  };
  const wait = hold.before();
  return wait === undefined ? counted() : wait.then(counted);
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
  /**
   * Set on answers kept in the in-memory cache: what providers parsed from the body, by name,
   * shared by every hit (see parsedOnce).
   */
  parsed?: Map<string, unknown>;
  /** Set on answers kept in the in-memory cache: when they were stored (epoch ms). */
  cachedAt?: number;
  /** Set on answers that came from the provider (not on cached copies): the call, for its failure line. */
  sent?: SentCall;
}

export interface UpstreamCallRecord {
  provider: string;
  call: string;
  /** HTTP status, or the cause class when no answer came (`dns`, `refused`, `timeout`, …; see upstream-failure.ts). */
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

export type SendUpstream = (request: UpstreamRequest, signal: AbortLike) => Promise<UpstreamResponse>;

/** Cache, single-flight and rate limits in front of a provider (cached-http.ts). */
export interface UpstreamGate {
  request(request: UpstreamRequest, scope: RequestScope, send: SendUpstream): Promise<UpstreamResponse>;
}

export interface UpstreamOptions {
  providerName: string;
  /** The module id, for failure lines and metrics; the display name when unset. */
  providerId?: string;
  timeoutMs: number;
  maxBodyBytes: number;
  concurrency: number;
  /** Tests use a client whose TLS settings they control; production leaves this unset. */
  agent?: Agent;
  /** Without one, every call goes upstream. */
  gate?: UpstreamGate;
  onCall?: (record: UpstreamCallRecord) => void;
  /** Every failed call, once (after its log line): for the metrics. */
  onFailure?: (failure: UpstreamFailure) => void;
  /** Where failures of calls made outside a request's logger are logged. */
  log?: Logger;
  /** Answer bytes being received by every client at once, with their bound (docs/limits.md). */
  inTransit?: TransitBytes;
}

/** Shared by every provider's client: a call whose answer would pass `limit` is dropped. */
export interface TransitBytes {
  used: number;
  readonly limit: number;
  /** True when the relay cannot hold more (heap pressure, answers held past their bound). */
  overloaded?: () => boolean;
}

function transitError(providerName: string, limit: number): RelayError {
  return new RelayError(
    'service unavailable',
    `The answers being received from the providers reached the relay's bound of ${limit} bytes (MAX_UPSTREAM_BYTES_IN_FLIGHT); this answer of ${providerName} was dropped. Please, try again later.`,
  );
}

/** Why this side ended a call (the time limit, the caller, the size cap). */
type OwnCause = Pick<UpstreamFailure, 'cause' | 'limitMs' | 'limitBytes'>;

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
  const { origin, basePath } = parsedBase(base);
  let search = '';
  for (const name in query) search += `${search === '' ? '' : '&'}${formEncode(name)}=${formEncode(query[name]!)}`;
  const path = basePath + segments.map(encodeSegment).join('/') + (search === '' ? '' : `?${search}`);
  return { origin, path };
}

// What encodeURIComponent writes differently from the form encoding.
const NOT_FORM_ENCODED = /%20|[!'()~]/;

/**
 * application/x-www-form-urlencoded, as URLSearchParams writes it (space as `+`; only `*-._` and
 * alphanumerics left as they are), without building one for every call.
 */
export function formEncode(text: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    // A lone surrogate: URLSearchParams writes it as U+FFFD.
    return new URLSearchParams([['', text]]).toString().slice(1);
  }
  if (!NOT_FORM_ENCODED.test(encoded)) return encoded;
  return encoded.replace(/%20/g, '+').replace(/[!'()~]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

// A module has one or two bases (from its settings), used for every call: parsed once each.
const bases = new Map<string, { origin: string; basePath: string }>();

function parsedBase(base: string): { origin: string; basePath: string } {
  let parsed = bases.get(base);
  if (parsed === undefined) {
    const url = new URL(base);
    parsed = { origin: url.origin, basePath: url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/` };
    // Bases come from settings, so few; the bound only keeps a caller passing values from growing it.
    if (bases.size < 100) bases.set(base, parsed);
  }
  return parsed;
}

// An answer this large takes about a slice or more to parse, check and map (JSON.parse alone runs
// at about 200 MB/s here; 1.3 MB, an address in 1000 OTX pulses, takes 5 ms): it has a slice of
// its own (turns.ts).
const HEAVY_ANSWER_CHARS = 256 * 1024;

// The turn of calls made outside a relay request (the CLI's health check, tests).
const NO_OWNER = {};

/**
 * The answer goes to what waits for it in its request's turn (turns.ts). A function of its own so
 * that the task holds the answer only, not the call's closure (its undici controller and what
 * that still references).
 */
function handOver(owner: object, answer: UpstreamResponse, resolve: (answer: UpstreamResponse) => void, handedOver: () => void): void {
  turns.run(
    owner,
    () => {
      handedOver();
      resolve(answer);
    },
    answer.body.length >= HEAVY_ANSWER_CHARS,
  );
}

export class UpstreamClient {
  readonly providerName: string;
  private readonly providerId: string;
  private readonly agent: Agent;
  private readonly limit: LimitFunction;
  private readonly ownsAgent: boolean;
  /** undici's connect time-out of our own agent (unknown for an agent a test gives). */
  private readonly connectTimeoutMs: number | undefined;

  constructor(private readonly options: UpstreamOptions) {
    this.providerName = options.providerName;
    this.providerId = options.providerId ?? options.providerName;
    this.ownsAgent = options.agent === undefined;
    this.connectTimeoutMs = this.ownsAgent ? Math.min(options.timeoutMs, 10_000) : undefined;
    this.agent =
      options.agent ??
      new Agent({
        connections: options.concurrency,
        keepAliveTimeout: 30_000,
        connect: { timeout: Math.min(options.timeoutMs, 10_000) },
      });
    this.limit = pLimit(options.concurrency);
  }

  /**
   * `log` is the relay request's logger: a failed call is logged there (with the request's id).
   * `owner` is what the answer takes its turn as (turns.ts): one object per relay request.
   */
  request(request: UpstreamRequest, signal?: AbortLike, log?: Logger, owner: object = NO_OWNER): Promise<UpstreamResponse> {
    return this.limit(() => this.send(request, signal, log, owner));
  }

  /**
   * The client as one relay request uses it. `credentialScope` is a hash of the credential (never
   * the credential), so anything shared between requests can be kept apart per credential.
   */
  forRequest(
    signal: AbortSignal,
    stats: CallStats,
    credentialScope = '',
    options: { deadlineAt?: number; useCache?: boolean; log?: Logger | undefined } = {},
  ): Http {
    const log = options.log;
    const send: SendUpstream = (request, callSignal) => {
      stats.upstreamCalls += 1;
      return this.request(request, callSignal, log, stats);
    };
    const gate = this.options.gate;
    if (gate === undefined) return { request: (request) => withinHold(request, (held) => send(held, signal)) };
    const scope: RequestScope = {
      signal,
      stats,
      credentialScope,
      deadlineAt: options.deadlineAt ?? Number.POSITIVE_INFINITY,
      useCache: options.useCache ?? true,
    };
    return { request: (request) => gate.request(request, scope, send) };
  }

  /** A failed call: its one log line, then the metrics. */
  private readonly failed: FailureSink = (failure, log) => {
    logFailure(log ?? this.options.log, failure);
    this.options.onFailure?.(failure);
  };

  /**
   * One call on undici's dispatch API: no stream, async iterator or AbortController per call,
   * which at hundreds of calls per relay request is most of the client's cost. The body is
   * collected up to the size cap; the caller's signal and the time limit abort the call.
   */
  private send(request: UpstreamRequest, signal: AbortLike | undefined, log: Logger | undefined, owner: object): Promise<UpstreamResponse> {
    const started = performance.now();
    const { providerName, timeoutMs, maxBodyBytes, onCall, inTransit } = this.options;
    const providerId = this.providerId;
    return new Promise<UpstreamResponse>((resolve, reject) => {
      let controller: DispatchController | undefined;
      // Why this side ended the call, if it did (the time limit, the caller, the size cap).
      let reason: RelayError | undefined;
      let ownCause: OwnCause | undefined;
      let done = false;
      let status = 0;
      let headers: Record<string, string | undefined> = {};
      const chunks: Buffer[] = [];
      let size = 0;
      // What this call counts in `inTransit` (the chunks kept).
      let held = 0;

      const finish = (error: RelayError | undefined, failure?: Omit<UpstreamFailure, 'provider' | 'call' | 'origin' | 'durationMs'>): void => {
        if (done) return;
        done = true;
        // undici's controller points at the answer's raw headers, views into the socket's read
        // buffer: not kept past the call.
        controller = undefined;
        // An answer waiting for its turn still counts as being received: the bound on answers in
        // transit is what keeps a burst of huge answers, already asked for, out of the heap.
        const received = held;
        held = 0;
        const handedOver = (): void => {
          if (inTransit !== undefined) inTransit.used -= received;
        };
        if (error !== undefined) handedOver();
        clearTimeout(timer);
        stopWatching?.();
        const durationMs = performance.now() - started;
        if (error === undefined) {
          onCall?.({ provider: providerName, call: request.call, outcome: status, durationMs });
          const answer: UpstreamResponse = {
            status,
            headers,
            body: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'),
            // For the provider's verdict on the answer (a status it fails on, a body it cannot read).
            sent: { provider: providerId, call: request.call, origin: request.url.origin, durationMs: Math.round(durationMs), log, sink: this.failed, reported: false },
          };
          chunks.length = 0;
          // What waits for the answer (parsing, mapping) runs in its request's turn, not now.
          // Received: the bytes gate counts it from now on, while it waits for its turn.
          request.arrived?.(answer.body.length);
          handOver(owner, answer, resolve, handedOver);
          return;
        }
        const cause = failure ?? { cause: 'network' as const };
        onCall?.({ provider: providerName, call: request.call, outcome: cause.cause, durationMs });
        this.failed({ provider: providerId, call: request.call, origin: request.url.origin, ...cause, durationMs: Math.round(durationMs) }, log);
        reject(error);
      };
      const stop = (error: RelayError, cause: OwnCause): void => {
        if (done || reason !== undefined) return;
        reason = error;
        ownCause = cause;
        if (controller === undefined) finish(error, cause);
        else controller.abort(error);
      };
      const timer = setTimeout(() => stop(unavailable(providerName, new Error('time limit')), { cause: 'timeout', limitMs: timeoutMs }), timeoutMs);
      const aborted = (): void => stop(unavailable(providerName, new Error('aborted')), { cause: 'aborted' });
      const stopWatching = signal === undefined ? undefined : whenAborted(signal, aborted);
      if (signal?.aborted === true) return aborted();

      const handler: DispatchHandler = {
        onRequestStart: (started) => {
          controller = started;
          if (reason !== undefined) started.abort(reason);
        },
        onResponseStart: (_controller, statusCode, answerHeaders) => {
          status = statusCode;
          headers = {};
          for (const [name, value] of Object.entries(answerHeaders)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        },
        onResponseData: (_controller, chunk) => {
          size += chunk.length;
          if (size > maxBodyBytes) stop(new RelayError('unknown', `The answer of ${providerName} is larger than ${maxBodyBytes} bytes.`), { cause: 'too large', limitBytes: maxBodyBytes });
          else if (inTransit !== undefined && ((held < inTransit.used && inTransit.used + chunk.length > inTransit.limit) || inTransit.overloaded?.() === true)) {
            stop(transitError(providerName, inTransit.limit), { cause: 'overloaded', limitBytes: inTransit.limit });
          } else {
            // A chunk is often a small view of the socket's whole read buffer: kept as it is, it
            // would keep that buffer (64 KiB or more) alive for as long as the answer is received.
            chunks.push(chunk.byteLength * 2 < chunk.buffer.byteLength ? Buffer.from(chunk) : chunk);
            if (inTransit !== undefined) {
              inTransit.used += chunk.length;
              held += chunk.length;
            }
          }
        },
        onResponseEnd: () => finish(reason, ownCause),
        onResponseError: (_controller, error) => finish(reason ?? this.toRelayError(error), ownCause ?? this.classified(error)),
      };
      try {
        this.agent.dispatch(
          {
            origin: request.url.origin,
            path: request.url.path,
            method: request.method ?? 'GET',
            headers: { accept: 'application/json', 'user-agent': 'ctr-relay', ...request.headers },
            body: request.body ?? null,
          },
          handler,
        );
      } catch (error) {
        finish(this.toRelayError(error), this.classified(error));
      }
    });
  }

  /** The cause class of an error undici or Node threw, with the limit when it was a connect time-out. */
  private classified(error: unknown): Omit<UpstreamFailure, 'provider' | 'call' | 'origin' | 'durationMs'> {
    const failure: Omit<UpstreamFailure, 'provider' | 'call' | 'origin' | 'durationMs'> = classifyTransportError(error);
    if (failure.errorCode === 'UND_ERR_CONNECT_TIMEOUT' && this.connectTimeoutMs !== undefined) failure.limitMs = this.connectTimeoutMs;
    return failure;
  }

  private toRelayError(error: unknown): RelayError {
    if (error instanceof RelayError) return error;
    const reason = tlsVerifyReason(error);
    if (reason !== undefined) return sslError(reason);
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
    reportAnswerFailure(response, 'unparsable', { reason: 'not JSON' });
    throw keyError(providerName);
  }
}

/** `parse()` of an answer; a `key error` it throws is the call's failure (cause `unparsable`). */
export function parseAnswer<T>(response: UpstreamResponse, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RelayError && error.code === 'key error') reportAnswerFailure(response, 'unparsable', { reason: 'changed shape' });
    throw error;
  }
}

/**
 * `parse()` of a cached answer once, not on every cache hit (parsing and validating is most of
 * a warm lookup's cost). The result is frozen, since every later hit shares it; answers not from
 * the in-memory cache are parsed each time. `name` must say everything the parse depends on.
 */
export function parsedOnce<T>(response: UpstreamResponse, name: string, parse: () => T): T {
  const memo = response.parsed;
  if (memo === undefined) return parseAnswer(response, parse);
  if (memo.has(name)) return memo.get(name) as T;
  const value = deepFreeze(parseAnswer(response, parse));
  memo.set(name, value);
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
// RFC 9110's HTTP-date: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must read.
const HTTP_DATE = new RegExp(
  `^(?:${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} ${TIME} GMT|${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4})$`,
);

/**
 * The answer's Retry-After in whole seconds, when it has one that RFC 9110 allows: a number of
 * seconds (digits only) or an HTTP-date. Anything else (`-1`, `1e9`, `0x10`, `soon`, a date in
 * another format) is no Retry-After at all.
 */
export function retryAfterSeconds(response: UpstreamResponse): number | undefined {
  const header = response.headers['retry-after']?.trim();
  if (header === undefined) return undefined;
  if (/^\d{1,12}$/.test(header)) return Number(header);
  if (!HTTP_DATE.test(header)) return undefined;
  // RFC 850's two-digit year, and asctime's missing zone (it is GMT), made plain for Date.parse.
  const plain = header
    .replace(/^\w+, (\d{2})-(\w{3})-(\d{2}) /, (_, day: string, month: string, year: string) => `${day} ${month} ${Number(year) + (Number(year) < 70 ? 2000 : 1900)} `)
    .replace(/ \d{4}$/, (year) => `${year} GMT`);
  const date = Date.parse(plain);
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
  // The provider fails on this answer: the call's failure line (once, and not for a cache hit).
  reportAnswerFailure(response, 'http', { status });
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
