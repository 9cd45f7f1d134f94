// One error type for every failure the relay reports. The HTTP layer renders it as the
// contract's `{"errors": [{type, code, message}]}`; nothing else ever reaches an answer.

export const ERROR_CODES = [
  'authorization error',
  'invalid argument',
  'permission denied',
  'not found',
  'too many requests',
  'service unavailable',
  'key error',
  'ssl error',
  'health check failed',
  'unknown',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An observable an error is about, as the caller sent it. */
export interface FailedObservable {
  type: string;
  value: string;
}

export interface ErrorDocument {
  type: 'fatal';
  code: ErrorCode;
  message: string;
  /**
   * Not in the contract's three fields (Threat Response ignores fields it does not know): the
   * observables this error is about, the first MAX_ERROR_OBSERVABLES of them, so that a partial
   * answer says which ones failed. `ERROR_OBSERVABLES=off` leaves both out.
   */
  observables?: FailedObservable[];
  /** How many observables failed with this error (more than are listed when over the bound). */
  observablesCount?: number;
}

/** At most this many observables are listed per error (and per request in the summary line). */
export const MAX_ERROR_OBSERVABLES = 20;

// A RelayError is an answer to the caller, not a bug: it needs no stack. Capturing one costs
// microseconds per error (thousands per request when a provider is down) and, until it is
// formatted, keeps every frame's receiver alive: undici's request objects, and through them the
// socket buffers their headers point into (64 KiB each). The stack is captured by Error's
// constructor, so the limit is lowered around super().
export class RelayError extends Error {
  readonly code: ErrorCode;
  /** HTTP status of the relay's own answer: 200 for contract errors (Threat Response reads the body). */
  readonly httpStatus: number;
  /** Seconds the caller should wait, when a rate limit caused it. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { httpStatus?: number; retryAfterSeconds?: number; cause?: unknown } = {}) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'RelayError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? 200;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toDocument(): ErrorDocument {
    return { type: 'fatal', code: this.code, message: this.message };
  }
}

export const AUTH_MESSAGES = {
  noHeader: 'Authorization header is missing',
  wrongType: 'Wrong authorization type',
  wrongStructure: 'Wrong JWT structure',
  wrongPayload: 'Wrong JWT payload structure',
  wrongAudience: 'Wrong configuration-token-audience',
  kidNotFound: 'kid from JWT header not found in API response',
  wrongKey:
    'Failed to decode JWT with provided key. Make sure domain in custom_jwks_host corresponds to your SecureX instance region.',
  jwksHostMissing: 'jwks_host is missing in JWT payload. Make sure custom_jwks_host field is present in module_type',
  wrongJwksHost: 'Wrong jwks_host in JWT payload. Make sure domain follows the visibility.<region>.cisco.com structure',
  expired: 'The JWT has expired',
  notYetValid: 'The JWT is not yet valid',
} as const;

/**
 * HS256 (self-hosted) failures, in words about what the operator controls: the contract's messages
 * above speak of SecureX and jwks hosts, which an HS256 token never involves. RS256 keeps those.
 */
export const HS256_MESSAGES = {
  noSecretKey:
    'This relay has no SECRET_KEY, so it cannot verify HS256 tokens. Set SECRET_KEY on the relay to the key the token was signed with (ctr-relay jwt prints one), or use RS256 tokens.',
  badSignature:
    "The token's HS256 signature does not match this relay's SECRET_KEY. Sign it with the relay's SECRET_KEY: run ctr-relay jwt where the same SECRET_KEY is set (environment or .env).",
  notBound: (moduleId: string) =>
    `The token is not bound to this module (${moduleId}). With several modules mounted, an HS256 token must name its module: make one with "ctr-relay jwt --provider ${moduleId}" (it writes "provider": "${moduleId}"), or give it "aud": "<public url>/${moduleId}".`,
  otherProvider: (tokenProvider: string, moduleId: string) =>
    `The token was made for the ${tokenProvider} module, not ${moduleId}; its credentials are never sent to another provider. Make one with "ctr-relay jwt --provider ${moduleId}".`,
} as const;

export function authorizationError(message: string): RelayError {
  return new RelayError('authorization error', `Authorization failed: ${message}`);
}

export function invalidPayload(detail: string): RelayError {
  return new RelayError('invalid argument', `Invalid JSON payload received. ${detail}`);
}

export function keyError(providerName: string): RelayError {
  return new RelayError('key error', `The data structure of ${providerName} has changed. The module is broken.`);
}

export function sslError(reason: string): RelayError {
  return new RelayError('ssl error', `Unable to verify SSL certificate: ${reason}`);
}

export function watchdogError(): RelayError {
  return new RelayError('health check failed', 'Invalid Health Check');
}

export function unavailable(providerName: string, cause?: unknown): RelayError {
  return new RelayError('service unavailable', `The ${providerName} is unavailable. Please, try again later.`, { cause });
}

export function tooManyRequests(providerName: string, retryAfterSeconds?: number): RelayError {
  return new RelayError(
    'too many requests',
    `Too many requests to ${providerName} have been made. Please, try again later.`,
    retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
  );
}

/** Whatever was thrown, as a RelayError that is safe to show (no stack, no credential). */
export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  return new RelayError('unknown', 'Something went wrong.', { cause: error });
}

/**
 * Same code and message once only, in the order first seen. With `observablesOf`, each document
 * lists the observables of every error merged into it (bounded; the count says how many).
 */
export function uniqueErrors(errors: readonly RelayError[], observablesOf?: (error: RelayError) => readonly FailedObservable[] | undefined): ErrorDocument[] {
  const seen = new Map<string, ErrorDocument>();
  // One error object can stand for several observables (the deadline's) and appear once for each.
  const merged = new Set<RelayError>();
  const out: ErrorDocument[] = [];
  for (const error of errors) {
    const key = `${error.code}\u0000${error.message}`;
    let document = seen.get(key);
    if (document === undefined) {
      document = error.toDocument();
      seen.set(key, document);
      out.push(document);
    }
    if (observablesOf === undefined || merged.has(error)) continue;
    merged.add(error);
    const observables = observablesOf(error);
    if (observables === undefined || observables.length === 0) continue;
    const listed = (document.observables ??= []);
    for (const observable of observables) {
      if (listed.length >= MAX_ERROR_OBSERVABLES) break;
      listed.push({ type: observable.type, value: observable.value });
    }
    document.observablesCount = (document.observablesCount ?? 0) + observables.length;
  }
  return out;
}
