// Verifies the `Authorization: Bearer <JWT>` of a request and returns the token's payload.
// HS256 with SECRET_KEY, or RS256 with keys from JWKS_URL or from an allowed jwks_host only;
// every other algorithm (`none` included) is refused.
import { webcrypto } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { AUTH_MESSAGES, HS256_MESSAGES, authorizationError } from './errors.js';

export interface AuthSettings {
  SECRET_KEY?: string | undefined;
  JWKS_HOSTS: readonly string[];
  JWKS_URL?: string | undefined;
}

/** Tokens longer than this are refused before any parsing (Threat Response's are ~1 KB). */
const MAX_TOKEN_LENGTH = 8192;

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** Remote key sets, one per allowed URL, cached with a cool-down between refreshes. */
export class KeySets {
  private readonly sets = new Map<string, KeySet>();

  constructor(private readonly timeoutMs = 5000) {}

  get(url: string): KeySet {
    let set = this.sets.get(url);
    if (set === undefined) {
      set = createRemoteJWKSet(new URL(url), {
        timeoutDuration: this.timeoutMs,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
      this.sets.set(url, set);
    }
    return set;
  }
}

/** How long a verified token is taken on trust: a key withdrawn from a JWKS stops working after this. */
const VERIFIED_TTL_MS = 60_000;

/**
 * Tokens verified recently, by audience and token. Threat Response sends the same token with
 * every request, and checking its signature costs more than answering from the cache; `exp` is
 * still checked on every use.
 */
export class VerifiedTokens {
  private readonly tokens = new LRUCache<string, JWTPayload>({ max: 1000 });

  get(key: string): JWTPayload | undefined {
    const payload = this.tokens.get(key);
    if (payload !== undefined && typeof payload.exp === 'number' && payload.exp <= Math.floor(Date.now() / 1000)) {
      this.tokens.delete(key);
      throw authorizationError(AUTH_MESSAGES.expired);
    }
    return payload;
  }

  remember(key: string, payload: JWTPayload): void {
    const untilExpiry = typeof payload.exp === 'number' ? payload.exp * 1000 - Date.now() : Number.POSITIVE_INFINITY;
    const ttl = Math.floor(Math.min(VERIFIED_TTL_MS, untilExpiry));
    if (ttl > 0) this.tokens.set(key, payload, { ttl });
  }
}

export function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw authorizationError(AUTH_MESSAGES.noHeader);
  const parts = header.trim().split(/\s+/);
  if (parts.length !== 2 || parts[0]?.toLowerCase() !== 'bearer') throw authorizationError(AUTH_MESSAGES.wrongType);
  return parts[1] as string;
}

function decodeUnverified(token: string): { alg: string; kid: string | undefined; payload: JWTPayload } {
  if (token.length > MAX_TOKEN_LENGTH) throw authorizationError(AUTH_MESSAGES.wrongStructure);
  try {
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    return { alg: String(header.alg ?? ''), kid: typeof header.kid === 'string' ? header.kid : undefined, payload };
  } catch {
    throw authorizationError(AUTH_MESSAGES.wrongStructure);
  }
}

function jwksUrlFor(payload: JWTPayload, settings: AuthSettings): string {
  if (settings.JWKS_URL !== undefined) return settings.JWKS_URL;
  const host = payload.jwks_host;
  if (host === undefined || host === null || host === '') throw authorizationError(AUTH_MESSAGES.jwksHostMissing);
  // Only exact host names from the allow-list are ever contacted: the token is not trusted yet.
  const allowed = typeof host === 'string' && settings.JWKS_HOSTS.some((entry) => entry.toLowerCase() === host.toLowerCase());
  if (!allowed) throw authorizationError(AUTH_MESSAGES.wrongJwksHost);
  return `https://${host.toLowerCase()}/.well-known/jwks`;
}

function verificationError(error: unknown): Error {
  if (error instanceof joseErrors.JWTExpired) return authorizationError(AUTH_MESSAGES.expired);
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return authorizationError(AUTH_MESSAGES.wrongAudience);
    if (error.claim === 'nbf') return authorizationError(AUTH_MESSAGES.notYetValid);
    return authorizationError(AUTH_MESSAGES.wrongPayload);
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return authorizationError(AUTH_MESSAGES.kidNotFound);
  }
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
    return authorizationError(AUTH_MESSAGES.wrongJwksHost);
  }
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) {
    return authorizationError(AUTH_MESSAGES.wrongStructure);
  }
  if (error instanceof joseErrors.JOSEError) return authorizationError(AUTH_MESSAGES.wrongKey);
  // A network failure while fetching the key set.
  return authorizationError(AUTH_MESSAGES.wrongJwksHost);
}

// Importing the secret for every request costs more than verifying the token; keep the last one.
let hs256KeyCache: { secret: string; key: Promise<webcrypto.CryptoKey> } | undefined;
function hs256Key(secret: string): Promise<webcrypto.CryptoKey> {
  if (hs256KeyCache?.secret !== secret) {
    const key = webcrypto.subtle.importKey('raw', Buffer.from(secret, 'utf8'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    hs256KeyCache = { secret, key };
  }
  return hs256KeyCache.key;
}

/** The claim `ctr-relay jwt` writes to name the module a token is for. */
export const PROVIDER_CLAIM = 'provider';

/** Which module a request is for, and whether the token must name it (several modules mounted). */
export interface ModuleBinding {
  moduleId: string;
  /** True with more than one module mounted; a single-module mount takes any valid token. */
  required: boolean;
}

/**
 * Whether a verified payload may be used by a module: a token never carries one provider's key to
 * another. A `provider` claim naming another module is refused always (no original wrote that
 * claim, so a drop-in token never has one); with `required`, the token must name this module by
 * its `provider` claim or by `aud` (which verifyToken has already matched to the module URL).
 * RS256 tokens always carry a checked `aud`. Throws the `authorization error`; exported for the
 * other front doors that take tokens.
 */
export function checkModuleBinding(payload: JWTPayload, binding: ModuleBinding): void {
  const claimed = payload[PROVIDER_CLAIM];
  if (claimed !== undefined && claimed !== binding.moduleId) {
    // The claim is the caller's text: named in the answer only when it looks like a module id.
    const shown = typeof claimed === 'string' && /^[a-z0-9-]{1,40}$/.test(claimed) ? claimed : undefined;
    throw authorizationError(shown === undefined ? HS256_MESSAGES.notBound(binding.moduleId) : HS256_MESSAGES.otherProvider(shown, binding.moduleId));
  }
  if (binding.required && claimed === undefined && payload.aud === undefined) throw authorizationError(HS256_MESSAGES.notBound(binding.moduleId));
}

/**
 * The verified payload. `audiences` are the module URLs this request may be addressed to; RS256
 * tokens must name one, HS256 tokens are checked only when they carry `aud`. With `binding`, the
 * payload must also be usable by that module (see checkModuleBinding), remembered tokens included.
 */
export async function verifyToken(
  authorizationHeader: string | undefined,
  audiences: readonly string[],
  settings: AuthSettings,
  keySets: KeySets,
  verified?: VerifiedTokens,
  binding?: ModuleBinding,
): Promise<JWTPayload> {
  const token = bearerToken(authorizationHeader);
  const cacheKey = `${audiences.join(' ')}\n${token}`;
  let payload = verified?.get(cacheKey);
  if (payload === undefined) {
    payload = await verifyUncached(token, audiences, settings, keySets);
    verified?.remember(cacheKey, payload);
  }
  if (binding !== undefined) checkModuleBinding(payload, binding);
  return payload;
}

async function verifyUncached(token: string, audiences: readonly string[], settings: AuthSettings, keySets: KeySets): Promise<JWTPayload> {
  const { alg, kid, payload } = decodeUnverified(token);
  try {
    if (alg === 'HS256') {
      if (settings.SECRET_KEY === undefined) throw authorizationError(HS256_MESSAGES.noSecretKey);
      const key = await hs256Key(settings.SECRET_KEY);
      const options = payload.aud === undefined ? { algorithms: ['HS256'] } : { algorithms: ['HS256'], audience: [...audiences] };
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (error) {
        // Its own words for a signature made with another key; the rest (exp, nbf, aud) as for RS256.
        if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw authorizationError(HS256_MESSAGES.badSignature);
        throw error;
      }
    }
    if (alg === 'RS256') {
      const url = jwksUrlFor(payload, settings);
      if (kid === undefined) throw authorizationError(AUTH_MESSAGES.kidNotFound);
      return (await jwtVerify(token, keySets.get(url), { algorithms: ['RS256'], audience: [...audiences] })).payload;
    }
    throw authorizationError(AUTH_MESSAGES.wrongKey);
  } catch (error) {
    if (error instanceof Error && error.name === 'RelayError') throw error;
    throw verificationError(error);
  }
}
