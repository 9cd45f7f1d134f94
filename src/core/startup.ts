// What a starting relay says about itself: one info line an operator can check the deployment
// against (modules, key sources, cache, Redis, workers), and a warning for a configuration under
// which no token can ever be accepted. Never a secret: Redis is named by host and port only.
import type { Settings } from './settings.js';

export interface StartupModule {
  id: string;
  /** Whether any of its endpoints reads a token. */
  needsCredentials: boolean;
}

export interface StartupReport {
  /** The fields of the `relay starting` line. */
  fields: Record<string, unknown>;
  warnings: string[];
}

/** `redis://host:port/db` without user, password or query. */
export function redisLocation(url: string): string {
  try {
    const parsed = new URL(url.trim());
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'redis (unparsable URL)';
  }
}

type StartupSettings = Pick<
  Settings,
  'SECRET_KEY' | 'JWKS_URL' | 'JWKS_HOSTS' | 'PUBLIC_URL' | 'CACHE' | 'CACHE_MAX_ENTRIES' | 'CACHE_MAX_BYTES' | 'CACHE_TTL_SECONDS' | 'REDIS_URL' | 'RATE_LIMITS' | 'WORKERS'
>;

export function startupReport(settings: StartupSettings, modules: readonly StartupModule[]): StartupReport {
  const hs256 = settings.SECRET_KEY !== undefined;
  const rs256 =
    settings.JWKS_URL !== undefined ? { rs256: 'on', jwksUrl: settings.JWKS_URL } : settings.JWKS_HOSTS.length > 0 ? { rs256: 'on', jwksHosts: settings.JWKS_HOSTS } : { rs256: 'off' };
  const redis = settings.REDIS_URL === undefined ? undefined : redisLocation(settings.REDIS_URL);
  const cache = !settings.CACHE
    ? 'off'
    : redis !== undefined
      ? `redis, ttl ${settings.CACHE_TTL_SECONDS} s`
      : `memory, ${settings.CACHE_MAX_ENTRIES} entries or ${Math.round(settings.CACHE_MAX_BYTES / 1024 ** 2)} MiB, ttl ${settings.CACHE_TTL_SECONDS} s`;
  const fields: Record<string, unknown> = {
    modules: modules.map((module) => module.id),
    auth: { hs256: hs256 ? 'on' : 'off (SECRET_KEY unset: tokens from ctr-relay jwt are refused)', ...rs256, moduleBinding: modules.length > 1 ? 'provider claim or aud' : 'any valid token (single module)' },
    cache,
    redis: redis ?? 'off',
    rateLimits: settings.RATE_LIMITS ? (redis === undefined ? 'on, in this process' : 'on, shared in Redis') : 'off',
    publicUrl: settings.PUBLIC_URL ?? 'unset (audience from the request)',
  };
  if (settings.WORKERS > 1) {
    fields.workers =
      redis === undefined
        ? `${settings.WORKERS}: without REDIS_URL each worker has its own cache and call sharing, and a 1/${settings.WORKERS} share of each rate limit`
        : `${settings.WORKERS}, sharing cache and rate limits in Redis`;
  }

  const warnings: string[] = [];
  const needTokens = modules.filter((module) => module.needsCredentials).map((module) => module.id);
  if (needTokens.length > 0 && !hs256 && rs256.rs256 === 'off') {
    warnings.push(
      `no token can ever be accepted: SECRET_KEY is unset and JWKS_HOSTS is empty without JWKS_URL, so ${needTokens.join(', ')} will refuse every request that needs credentials; set SECRET_KEY (HS256, ctr-relay jwt) or JWKS_URL/JWKS_HOSTS (RS256)`,
    );
  }
  return { fields, warnings };
}
