// Every setting the relay reads, parsed once at start-up from an env object into one typed value.
// A bad value stops start-up with a message naming the variable and what it accepts.
import { availableParallelism } from 'node:os';
import { z } from 'zod/v4';
import { parseRateLimit, type RateLimit } from './rate-limit.js';

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n  ${problems.join('\n  ')}`);
    this.name = 'SettingsError';
  }
}

export type Env = Record<string, string | undefined>;

function httpUrlString() {
  return z.string().transform((text, ctx) => {
    try {
      const url = new URL(text.trim());
      if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'accepts an absolute http:// or https:// URL' });
    return z.NEVER;
  });
}

// Small schema makers whose messages say what the variable accepts.
export const setting = {
  integer(min: number, max: number, fallback: number) {
    return z
      .string()
      .default(String(fallback))
      .transform((text, ctx) => {
        const value = Number(text.trim());
        if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
          ctx.addIssue({ code: 'custom', message: `accepts a whole number from ${min} to ${max}` });
          return z.NEVER;
        }
        return value;
      });
  },
  boolean(fallback: boolean) {
    return z
      .string()
      .default(fallback ? 'true' : 'false')
      .transform((text, ctx) => {
        const value = text.trim().toLowerCase();
        if (['1', 'true', 'yes', 'on'].includes(value)) return true;
        if (['0', 'false', 'no', 'off'].includes(value)) return false;
        ctx.addIssue({ code: 'custom', message: 'accepts true/false, yes/no, on/off or 1/0' });
        return z.NEVER;
      });
  },
  httpUrl(fallback: string) {
    return httpUrlString().default(fallback);
  },
  optionalHttpUrl() {
    return httpUrlString().optional();
  },
  list(fallback: readonly string[]) {
    return z
      .string()
      .default(fallback.join(','))
      .transform((text) =>
        text
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      );
  },
  oneOf<T extends string>(values: readonly [T, ...T[]], fallback: T) {
    return z
      .string()
      .default(fallback)
      .transform((text, ctx) => {
        const value = text.trim().toLowerCase();
        if ((values as readonly string[]).includes(value)) return value as T;
        ctx.addIssue({ code: 'custom', message: `accepts one of ${values.join(', ')}` });
        return z.NEVER;
      });
  },
};

export const ENTITIES_LIMIT_DEFAULT = 100;
export const ENTITIES_LIMIT_MAX = 1000;

/** The contract's rule: a positive integer up to 1000; anything else means the default. */
export function parseEntitiesLimit(value: unknown, fallback = ENTITIES_LIMIT_DEFAULT): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(number) && number > 0 && number <= ENTITIES_LIMIT_MAX ? number : fallback;
}

/** The smallest HEAP_MB the relay starts with. */
export const MIN_HEAP_MB = 128;

/** The shortest SECRET_KEY the relay starts with. */
export const MIN_SECRET_KEY_BYTES = 32;
const PLACEHOLDER = /^\s*(replace[-_ ]?(me|with)|change[-_ ]?me|your[-_ ]secret)/i;

const DEFAULT_JWKS_HOSTS = ['visibility.amp.cisco.com', 'visibility.eu.amp.cisco.com', 'visibility.apjc.amp.cisco.com'];

export const coreSettingsSchema = z.object({
  PORT: setting.integer(0, 65535, 9090),
  HOST: z.string().default('0.0.0.0'),
  PROVIDERS: z.string().optional(),
  // At least 32 bytes (256 bits, HS256's own key size): a short key is found by brute force offline
  // from any one token, and with it tokens carrying anyone's credentials can be made.
  SECRET_KEY: z
    .string()
    .optional()
    .refine(
      (text) => text === undefined || Buffer.byteLength(text, 'utf8') >= MIN_SECRET_KEY_BYTES,
      `must be at least ${MIN_SECRET_KEY_BYTES} bytes; make one with "ctr-relay jwt" (it prints a new SECRET_KEY when none is set) or "openssl rand -hex 32"`,
    )
    // An example's placeholder left in place is long enough, and public.
    .refine(
      (text) => text === undefined || !PLACEHOLDER.test(text),
      'is a placeholder from an example; make a real one with "openssl rand -hex 32" (or "ctr-relay jwt")',
    ),
  JWKS_HOSTS: setting.list(DEFAULT_JWKS_HOSTS),
  JWKS_URL: setting.optionalHttpUrl(),
  PUBLIC_URL: setting.optionalHttpUrl(),
  TRUST_PROXY: setting.boolean(false),
  CTR_ENTITIES_LIMIT: z
    .string()
    .optional()
    .transform((text) => parseEntitiesLimit(text)),
  UPSTREAM_TIMEOUT_MS: setting.integer(1, 600_000, 10_000),
  REQUEST_DEADLINE_MS: setting.integer(100, 600_000, 14_000),
  UPSTREAM_CONCURRENCY: setting.integer(1, 10_000, 512),
  /**
   * Observables of one request looked up at once. As many as a request may hold: the upstream
   * client's UPSTREAM_CONCURRENCY and the request's budget bound the work, so a 500-observable
   * request costs one round trip, not ten waves (docs/limits.md).
   */
  OBSERVABLE_CONCURRENCY: setting.integer(1, 100_000, 1000),
  UPSTREAM_MAX_BODY_BYTES: setting.integer(1024, 1024 ** 3, 16 * 1024 * 1024),
  BODY_LIMIT_BYTES: setting.integer(1024, 1024 ** 3, 1024 * 1024),
  MAX_OBSERVABLES: setting.integer(1, 100_000, 1000),
  // The budget of one incoming request, across its observables and the providers it asks
  // (docs/limits.md has the measurements behind each default). 5000 calls: 100 observables at
  // OTX's cap of 50 calls each; a realistic 100-observable investigation costs 150-1000.
  REQUEST_MAX_UPSTREAM_CALLS: setting.integer(1, 10_000_000, 5000),
  // 100 observables × 100 entities of each of 3 capped types + their relationships is 40,000.
  REQUEST_MAX_ENTITIES: setting.integer(1, 100_000_000, 50_000),
  // JSON characters of the answer: 16 MiB is 3-4 × a realistic 100-observable OTX answer, and
  // about 45 MiB of heap while it is built.
  REQUEST_MAX_ANSWER_BYTES: setting.integer(1024, 4 * 1024 ** 3, 16 * 1024 * 1024),
  // Admission control (admission.ts): what all requests in flight hold together. The answer
  // bytes are a hard bound (a request that would pass it keeps what it has); the others refuse
  // new requests at once with `too many requests` and Retry-After.
  MAX_ANSWER_BYTES_IN_FLIGHT: setting.integer(1024, 64 * 1024 ** 3, 32 * 1024 * 1024),
  // Upstream answers held by observables still being looked up (byte-gate.ts): what a 256 MiB
  // heap holds next to the answers in flight and the cache, parsed (about 3 × the bytes).
  MAX_UPSTREAM_BYTES_IN_FLIGHT: setting.integer(64 * 1024, 64 * 1024 ** 3, 8 * 1024 * 1024),
  MAX_UPSTREAM_CALLS_IN_FLIGHT: setting.integer(1, 100_000_000, 20_000),
  MAX_REQUESTS_IN_FLIGHT: setting.integer(1, 1_000_000, 512),
  // Per credential (per client address where a module reads no credential): Threat Response
  // asks each module a few endpoints at once per investigation; 32 leaves room for many analysts
  // behind one address.
  MAX_REQUESTS_PER_CLIENT: setting.integer(1, 1_000_000, 32),
  // Off: errors keep the contract's exact {type, code, message} (consumers compare them whole).
  // On: each error also lists the observables it is about (`observables`, `observablesCount`),
  // fields Threat Response ignores. The summary log line names them either way.
  ERROR_OBSERVABLES: setting.boolean(false),
  SHUTDOWN_TIMEOUT_MS: setting.integer(0, 600_000, 10_000),
  CACHE: setting.boolean(true),
  CACHE_TTL_SECONDS: setting.integer(0, 30 * 86_400, 300),
  CACHE_MAX_ENTRIES: setting.integer(1, 10_000_000, 10_000),
  CACHE_MAX_BYTES: setting.integer(1024, 16 * 1024 ** 3, 16 * 1024 * 1024),
  REDIS_URL: z
    .string()
    .optional()
    .refine((text) => text === undefined || /^rediss?:\/\/./.test(text.trim()), 'accepts a redis:// or rediss:// URL'),
  RATE_LIMITS: setting.boolean(true),
  // Longest a call waits for a token of its provider's bucket. One second is one token of
  // Pulsedive's free tier (about a call a second): a request is late by at most that, and a call
  // that would wait longer is refused at once (`too many requests`, with a retry-after) instead
  // of holding the whole answer until its deadline for the few tokens that trickle in meanwhile.
  RATE_LIMIT_MAX_WAIT_MS: setting.integer(0, 600_000, 1000),
  WORKERS: z
    .string()
    .default('1')
    .transform((text, ctx) => {
      const value = text.trim().toLowerCase();
      if (value === 'auto') return availableParallelism();
      if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 1024) return Number(value);
      ctx.addIssue({ code: 'custom', message: 'accepts auto (one per core) or a whole number from 1 to 1024' });
      return z.NEVER;
    }),
  // On: the relay runs in a worker thread and the main thread only owns the port, answers
  // /healthz and passes bytes (bridge/front.ts), so a heavy request never delays a liveness
  // probe. Off: all in one thread, as before (simpler to profile).
  RELAY_THREAD: setting.boolean(true),
  LOG_LEVEL: setting.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  /** `pretty` (pino-pretty, for development) or `json` (one line per event, for log shippers). */
  LOG_FORMAT: setting.oneOf(['json', 'pretty'], 'json'),
  /** When set, `GET /metrics` asks for `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().optional(),
  // On by default: the OpenAPI document is what an integrator reads first, and it holds nothing
  // secret; off (404) for a deployment that wants to show nothing but the modules.
  /** `GET /docs` and `GET /openapi.json`. */
  DOCS: setting.boolean(true),
  // The V8 heap limit `npm start` and the container give node (--max-old-space-size), in MiB:
  // 256 keeps a pod's memory bounded and holds the default cache with room to spare; below 128
  // the relay itself (about 96 MiB under load) and the smallest cache do not fit.
  HEAP_MB: setting.integer(MIN_HEAP_MB, 64 * 1024, 256),
  /**
   * `withhold` (default) keeps private and internal observables from every provider (see
   * privacy-guard.ts): an analyst pasting a log must not leak the organisation's own addresses to
   * five outside vendors by accident. `send` turns the guard off, for a relay that looks up lab data.
   */
  PRIVATE_OBSERVABLES: setting.oneOf(['withhold', 'send'], 'withhold'),
  /**
   * Domain suffixes that name the organisation's own hosts, withheld like private addresses. The
   * default is what home and office networks use without registering anything: `localhost`
   * (RFC 6761), `local` (mDNS), `internal` (ICANN's private-use TLD), `lan`, `home.arpa` (RFC 8375).
   */
  INTERNAL_DOMAINS: setting.list(['localhost', 'local', 'internal', 'lan', 'home.arpa']),
  /**
   * Hours a console sign-in lasts (the sealed cookie's `exp`). 12: one analyst's working day, so
   * keys are typed once a shift and a cookie left on a shared machine dies overnight.
   */
  CONSOLE_SESSION_HOURS: setting.integer(1, 24 * 30, 12),
});

export type CoreSettings = Omit<z.infer<typeof coreSettingsSchema>, 'PROVIDERS'> & { PROVIDERS: string[] };

export interface Settings extends CoreSettings {
  /** Each mounted provider's own settings, parsed by the schema it declares. */
  providerSettings: Record<string, unknown>;
  /** Per provider id: seconds its answers stay cached (`CACHE_TTL_SECONDS_<ID>`, else `CACHE_TTL_SECONDS`). */
  cacheTtlSeconds: Record<string, number>;
  /** Per provider id: its token bucket per credential (`RATE_LIMIT_<ID>`, else its default), null when off. */
  rateLimits: Record<string, RateLimit | null>;
}

export interface ProviderSettingsSource {
  id: string;
  settingsSchema: z.ZodType<unknown, unknown>;
  rateLimit?: RateLimit;
}

/** `CACHE_TTL_SECONDS` + `_XFORCE`, `_CYBERCRIME_TRACKER`, …: the id upper-cased, dashes to underscores. */
export function perProviderName(prefix: string, id: string): string {
  return `${prefix}_${id.toUpperCase().replace(/-/g, '_')}`;
}

function perProviderSettings(env: Env, providers: readonly ProviderSettingsSource[], defaultTtl: number, rateLimitsOn: boolean, problems: string[]) {
  const cacheTtlSeconds: Record<string, number> = {};
  const rateLimits: Record<string, RateLimit | null> = {};
  const ttlSchema = setting.integer(0, 30 * 86_400, defaultTtl);
  for (const provider of providers) {
    // Only mounted providers reach here: a bad value for an unmounted one is not worth refusing to start.
    const ttlName = perProviderName('CACHE_TTL_SECONDS', provider.id);
    const ttl = ttlSchema.safeParse(env[ttlName]);
    if (ttl.success) cacheTtlSeconds[provider.id] = ttl.data;
    else problems.push(...describeIssues(ttl.error, env, ttlName));
    const limitName = perProviderName('RATE_LIMIT', provider.id);
    const text = env[limitName];
    const parsed = text === undefined ? (provider.rateLimit ?? null) : parseRateLimit(text);
    if (parsed === undefined) problems.push(`${limitName} accepts <requests>/<seconds> (e.g. 60/60) or off (got ${JSON.stringify(text)})`);
    rateLimits[provider.id] = rateLimitsOn ? (parsed ?? null) : null;
  }
  return { cacheTtlSeconds, rateLimits };
}

// Never echo these values back in a message (a Redis URL may carry a password).
const SECRET_NAMES = /SECRET|KEY|PASSWORD|TOKEN|REDIS_URL/;

function describeIssues(error: z.ZodError, env: Env, variable?: string): string[] {
  return error.issues.map((issue) => {
    const name = variable ?? String(issue.path[0] ?? '?');
    const value = env[name];
    const shown = value === undefined || SECRET_NAMES.test(name) ? '' : ` (got ${JSON.stringify(value)})`;
    return `${name} ${issue.message}${shown}`;
  });
}

/** Empty strings count as unset, as in most .env files and container definitions. */
function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
}

export function loadSettings(rawEnv: Env, providers: readonly ProviderSettingsSource[]): Settings {
  const env = withoutEmpty(rawEnv);
  const problems: string[] = [];
  const core = coreSettingsSchema.safeParse(env);
  if (!core.success) problems.push(...describeIssues(core.error, env));

  const known = providers.map((provider) => provider.id);
  const requested = env.PROVIDERS === undefined ? known : setting.list([]).parse(env.PROVIDERS);
  const unknown = requested.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    problems.push(`PROVIDERS accepts a comma list of ${known.join(', ')} (unknown: ${unknown.join(', ')})`);
  } else if (requested.length === 0) {
    problems.push(`PROVIDERS accepts a comma list of ${known.join(', ')} (got none)`);
  }
  const mounted = [...new Set(requested)];

  const providerSettings: Record<string, unknown> = {};
  for (const provider of providers) {
    const parsed = provider.settingsSchema.safeParse(env);
    if (parsed.success) providerSettings[provider.id] = parsed.data;
    else if (mounted.includes(provider.id)) problems.push(...describeIssues(parsed.error, env));
  }

  const mountedProviders = providers.filter((provider) => mounted.includes(provider.id));
  const perProvider = perProviderSettings(env, mountedProviders, core.data?.CACHE_TTL_SECONDS ?? 300, core.data?.RATE_LIMITS ?? true, problems);

  if (problems.length > 0 || !core.success) throw new SettingsError(problems);
  return { ...core.data, PROVIDERS: mounted, providerSettings, ...perProvider };
}
