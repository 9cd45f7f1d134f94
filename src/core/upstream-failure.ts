// Why an upstream call failed, in terms an operator can act on: one cause class per failure
// (DNS, refused, reset, time-out, TLS, HTTP status, unparsable body, …), one log line per failed
// call, one metrics label. The relay's answer keeps the contract's message; this is what the
// operator sees next to it. Nothing here ever holds a path, a query, a header or a body: the
// call's name and its origin are all that is logged (Pulsedive's key is in the query string,
// C1fApp's in the body, X-Force's in a Basic header, OTX's in a header of its own).
import type { FastifyBaseLogger } from 'fastify';

/** Every cause class: a bounded set, so metrics labels stay bounded. */
export const FAILURE_CAUSES = [
  'dns',
  'refused',
  'reset',
  'unreachable',
  'timeout',
  'tls',
  'protocol',
  'network',
  'http',
  'unparsable',
  'too large',
  'aborted',
  // The relay's own bound dropped the call (answer bytes in flight, heap pressure), not the provider.
  'overloaded',
] as const;

export type FailureCause = (typeof FAILURE_CAUSES)[number];

export interface UpstreamFailure {
  /** The module id (`cybercrime-tracker`), as in the metrics. */
  provider: string;
  /** What the call was for (`query`, `report`, `resolve`, `health`, …). */
  call: string;
  /** Scheme, host and port only: an origin never carries a path, a query or user info. */
  origin: string;
  cause: FailureCause;
  /** Node's or undici's error code (`ENOTFOUND`, `UND_ERR_SOCKET`, …), when there is one. */
  errorCode?: string;
  /** The HTTP status (cause `http`). */
  status?: number;
  /** The limit that ran out (cause `timeout`), when it is one of the relay's own. */
  limitMs?: number;
  /** The size cap (cause `too large`). */
  limitBytes?: number;
  /** What TLS said (cause `tls`), or what was wrong with the body (cause `unparsable`). */
  reason?: string;
  durationMs: number;
}

export type Logger = Pick<FastifyBaseLogger, 'warn' | 'info'>;

/** Where a client sends its failures: one log line and the metrics. */
export type FailureSink = (failure: UpstreamFailure, log: Logger | undefined) => void;

/** The certificate problems the contract answers with `ssl error`. */
export const TLS_VERIFY_CODES = new Set([
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

const CAUSE_BY_CODE: Record<string, FailureCause> = {
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EAI_NODATA: 'dns',
  EAI_NONAME: 'dns',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  ECONNABORTED: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_CLOSED: 'reset',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ENETDOWN: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  EPROTO: 'tls',
};

function causeOf(code: string): FailureCause | undefined {
  const known = CAUSE_BY_CODE[code];
  if (known !== undefined) return known;
  if (TLS_VERIFY_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'tls';
  if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'protocol';
  return undefined;
}

const MAX_REASON = 300;

function shortened(text: string): string {
  return text.length <= MAX_REASON ? text : `${text.slice(0, MAX_REASON - 1)}…`;
}

/** A thrown error and its causes, outermost first (undici wraps Node's errors). */
function* chain(error: unknown): Generator<{ code?: unknown; message?: unknown }> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth += 1) {
    yield current as { code?: unknown; message?: unknown };
    current = (current as { cause?: unknown }).cause;
  }
}

/**
 * The cause class of an error thrown by undici or Node for a call that got no answer. Only the
 * error's code is kept, and for TLS the message (about a certificate, never a URL).
 */
export function classifyTransportError(error: unknown): Pick<UpstreamFailure, 'cause' | 'errorCode' | 'reason'> {
  let firstCode: string | undefined;
  for (const link of chain(error)) {
    if (typeof link.code !== 'string') continue;
    firstCode ??= link.code;
    const cause = causeOf(link.code);
    if (cause === undefined) continue;
    if (cause !== 'tls') return { cause, errorCode: link.code };
    const reason = typeof link.message === 'string' && link.message !== '' ? link.message : link.code;
    return { cause, errorCode: link.code, reason: shortened(reason) };
  }
  return firstCode === undefined ? { cause: 'network' } : { cause: 'network', errorCode: firstCode };
}

/** The contract's `ssl error` reason, when a certificate could not be verified. */
export function tlsVerifyReason(error: unknown): string | undefined {
  for (const { code, message } of chain(error)) {
    if (typeof code === 'string' && TLS_VERIFY_CODES.has(code)) {
      const text = typeof message === 'string' && message !== '' ? message : code;
      return text.charAt(0).toUpperCase() + text.slice(1);
    }
  }
  return undefined;
}

/** `dns (ENOTFOUND)`, `timeout after 10000 ms`, `http 503`, … */
export function describeFailure(failure: UpstreamFailure): string {
  const code = failure.errorCode === undefined ? '' : ` (${failure.errorCode})`;
  switch (failure.cause) {
    case 'http':
      return `http ${failure.status ?? '?'}`;
    case 'timeout':
      return failure.limitMs === undefined ? `timeout${code}` : `timeout after ${failure.limitMs} ms${code}`;
    case 'too large':
      return `too large: over ${failure.limitBytes ?? '?'} bytes`;
    case 'tls':
    case 'unparsable':
      return `${failure.cause}: ${failure.reason ?? failure.errorCode ?? 'unknown'}`;
    default:
      return `${failure.cause}${code}`;
  }
}

/**
 * The one log line of a failed call. `warn`: the operator has something to check (a name that
 * does not resolve, a firewall, a proxy, a key, a provider down) and every such call degrades an
 * answer. `aborted` only at `info`: the call was cut because the caller went away or the request's
 * deadline passed, which the request's own summary already says.
 */
export function logFailure(log: Logger | undefined, failure: UpstreamFailure): void {
  if (log === undefined) return;
  const message = `upstream call failed: ${failure.provider} ${failure.call}: ${describeFailure(failure)}`;
  if (failure.cause === 'aborted') log.info({ upstream: failure }, message);
  else log.warn({ upstream: failure }, message);
}

/**
 * What made an answer, kept on the answers that came from the provider (`UpstreamResponse.sent`);
 * the cache keeps a copy without it, so a cache hit reports nothing: it is not a call. A plain
 * property, not a WeakMap: a WeakMap entry per call costs the garbage collector microseconds.
 */
export interface SentCall {
  readonly provider: string;
  readonly call: string;
  readonly origin: string;
  readonly durationMs: number;
  readonly log: Logger | undefined;
  readonly sink: FailureSink;
  /** One line per call, however many readers (single-flight) find the answer wanting. */
  reported: boolean;
}

/**
 * A provider found an answer wanting (an HTTP status it fails on, a body it cannot read): the
 * call's failure line and metrics, once per call. Answers from the cache report nothing.
 */
export function reportAnswerFailure(response: { sent?: SentCall | undefined }, cause: 'http' | 'unparsable', detail: { status?: number; reason?: string }): void {
  const sent = response.sent;
  if (sent === undefined || sent.reported) return;
  sent.reported = true;
  const failure: UpstreamFailure = { provider: sent.provider, call: sent.call, origin: sent.origin, cause, durationMs: sent.durationMs };
  if (detail.status !== undefined) failure.status = detail.status;
  if (detail.reason !== undefined) failure.reason = detail.reason;
  sent.sink(failure, sent.log);
}
