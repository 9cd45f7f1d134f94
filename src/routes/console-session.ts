// The console's session: the analyst's provider keys, sealed by the relay into an encrypted
// cookie (JWE, dir + A256GCM, key derived from SECRET_KEY with HKDF). The relay keeps nothing:
// every request carries its own sealed keys, and only the relay can open them. The page's script
// never sees them (HttpOnly), another site cannot make a browser send them (SameSite=Strict, and
// the console's own header on every request that uses the cookie).
import { hkdfSync } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { EncryptJWT, errors as joseErrors, jwtDecrypt, type JWTPayload } from 'jose';
import { RelayError } from '../core/errors.js';
import type { Settings } from '../core/settings.js';

export const CONSOLE_COOKIE = 'ctr_relay_console';
/** The header the console sets on every request; a cross-site form or image cannot. */
export const CONSOLE_HEADER = 'x-requested-by';
export const CONSOLE_HEADER_VALUE = 'ctr-relay-console';
/**
 * The cookie outlives the sealed `exp` by this much, so the relay can tell the analyst "your
 * session has expired" rather than "you are not signed in"; the keys inside are unusable by then.
 */
const EXPIRED_NOTICE_SECONDS = 3600;
/** Sealed cookies longer than this are refused unread (browsers keep at most ~4 KB anyway). */
const MAX_COOKIE_LENGTH = 4096;

export const SESSION_MESSAGES = {
  noHeader: `Authorization failed: a request using the console's session must carry the header X-Requested-By: ${CONSOLE_HEADER_VALUE}`,
  expired: 'Authorization failed: The console session has expired; sign in again',
  unreadable: 'Authorization failed: The console session cannot be read (SECRET_KEY changed?); sign in again',
  noSecret: 'This relay has no SECRET_KEY, so it cannot seal a console session: ask its operator to set SECRET_KEY.',
} as const;

// Deriving the key for every request would cost more than opening the cookie: keep the last one.
let keyCache: { secret: string; key: Uint8Array } | undefined;
function sessionKey(secret: string): Uint8Array {
  if (keyCache?.secret !== secret) {
    // A key of its own, so a console cookie can never be replayed as an HS256 bearer token.
    const key = new Uint8Array(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'ctr-relay', 'console session A256GCM', 32));
    keyCache = { secret, key };
  }
  return keyCache.key;
}

export interface SealedSession {
  cookie: string;
  expiresAt: Date;
}

/** Seals `credentials` (the multi-provider token's payload: `{xforce: {key, password}, …}`). */
export async function sealSession(credentials: Record<string, unknown>, settings: Pick<Settings, 'SECRET_KEY' | 'CONSOLE_SESSION_HOURS'>, now = new Date()): Promise<SealedSession> {
  if (settings.SECRET_KEY === undefined) throw new RelayError('authorization error', SESSION_MESSAGES.noSecret);
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = issuedAt + settings.CONSOLE_SESSION_HOURS * 3600;
  const cookie = await new EncryptJWT({ ...credentials })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .encrypt(sessionKey(settings.SECRET_KEY));
  return { cookie, expiresAt: new Date(expiresAt * 1000) };
}

export type OpenedSession =
  | { state: 'none' }
  | { state: 'expired' }
  | { state: 'unreadable' }
  | { state: 'open'; payload: JWTPayload; expiresAt: Date };

/** Opens a sealed cookie value; never throws. */
export async function openSession(cookie: string | undefined, settings: Pick<Settings, 'SECRET_KEY'>): Promise<OpenedSession> {
  if (cookie === undefined || cookie === '') return { state: 'none' };
  if (settings.SECRET_KEY === undefined || cookie.length > MAX_COOKIE_LENGTH) return { state: 'unreadable' };
  try {
    const { payload } = await jwtDecrypt(cookie, sessionKey(settings.SECRET_KEY), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      requiredClaims: ['exp'],
    });
    return { state: 'open', payload, expiresAt: new Date((payload.exp as number) * 1000) };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return { state: 'expired' };
    return { state: 'unreadable' };
  }
}

/** The value of one cookie from a Cookie header (first occurrence), undefined when absent. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (text === undefined) return undefined;
  for (const part of text.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() !== name) continue;
    const value = part.slice(index + 1).trim();
    return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}

export function sessionCookieOf(request: FastifyRequest): string | undefined {
  return readCookie(request.headers.cookie, CONSOLE_COOKIE);
}

/** Whether the request carries the console's header: requests using the cookie must. */
export function hasConsoleHeader(request: FastifyRequest): boolean {
  const value = request.headers[CONSOLE_HEADER];
  return typeof value === 'string' && value.trim().toLowerCase() === CONSOLE_HEADER_VALUE;
}

/**
 * The credentials of the console session a request carries, for the enrichment routes:
 * `undefined` when it carries no session cookie; an authorization error when it does but lacks
 * the console's header, or the session expired or cannot be opened.
 */
export async function consoleSessionCredentials(request: FastifyRequest, settings: Pick<Settings, 'SECRET_KEY'>): Promise<JWTPayload | undefined> {
  const cookie = sessionCookieOf(request);
  if (cookie === undefined || cookie === '') return undefined;
  if (!hasConsoleHeader(request)) throw new RelayError('authorization error', SESSION_MESSAGES.noHeader);
  const opened = await openSession(cookie, settings);
  if (opened.state === 'open') return opened.payload;
  if (opened.state === 'expired') throw new RelayError('authorization error', SESSION_MESSAGES.expired);
  throw new RelayError('authorization error', SESSION_MESSAGES.unreadable);
}

export interface CookieScope {
  /** `Secure` attribute: the request came over https (directly, or per X-Forwarded-Proto with TRUST_PROXY). */
  secure: boolean;
  /** The path the relay is served under (`/` or PUBLIC_URL's path, ending in `/`). */
  path: string;
}

/** Where the cookie goes: the relay's own path (PUBLIC_URL's when behind a prefix), https only when served so. */
export function cookieScope(request: FastifyRequest, settings: Pick<Settings, 'PUBLIC_URL'>): CookieScope {
  const publicUrl = settings.PUBLIC_URL === undefined ? undefined : new URL(settings.PUBLIC_URL);
  const path = `${(publicUrl?.pathname ?? '/').replace(/\/+$/, '')}/`;
  const secure = request.protocol === 'https' || publicUrl?.protocol === 'https:';
  return { secure, path };
}

export function sessionCookieHeader(value: string, maxAgeSeconds: number, scope: CookieScope): string {
  const parts = [`${CONSOLE_COOKIE}=${value}`, `Path=${scope.path}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict'];
  if (scope.secure) parts.push('Secure');
  return parts.join('; ');
}

export function sealedCookieHeader(sealed: SealedSession, scope: CookieScope, now = new Date()): string {
  const seconds = Math.max(0, Math.floor((sealed.expiresAt.getTime() - now.getTime()) / 1000)) + EXPIRED_NOTICE_SECONDS;
  return sessionCookieHeader(sealed.cookie, seconds, scope);
}

export function clearedCookieHeader(scope: CookieScope): string {
  return sessionCookieHeader('', 0, scope);
}

/** For the routes: refuses a request that uses the cookie without the console's header. */
export function requireConsoleHeader(request: FastifyRequest): void {
  if (!hasConsoleHeader(request)) throw new RelayError('authorization error', SESSION_MESSAGES.noHeader);
}

