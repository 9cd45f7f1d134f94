// `ctr-relay jwt`: an HS256 token carrying a provider's credentials (or several providers'), signed
// with the relay's SECRET_KEY, for a self-hosted relay (the originals' "jwt" tool, for all five
// providers). A new SECRET_KEY (256 random bits) is made only when none is set.
import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { PROVIDER_CLAIM } from '../core/auth.js';
import type { Provider } from '../core/provider.js';
import { ENTITIES_LIMIT_MAX, MIN_SECRET_KEY_BYTES, coreSettingsSchema } from '../core/settings.js';
import { PROVIDERS } from '../providers/registry.js';
import { parseCommandArgs, type Command } from './command.js';
import { credentialEnvName, credentialFields, credentialFlag } from './credentials.js';
import { ask, askSecret, canPrompt } from './prompt.js';
import { UsageError } from './usage-error.js';

const SECRET_BYTES = 32;

export function generateSecretKey(): string {
  return randomBytes(SECRET_BYTES).toString('hex');
}

export interface TokenClaims {
  /** `aud`: the module URL (or `<public url>/enrich` for a multi-provider token). */
  audience?: string | undefined;
  /** Seconds from now until `exp`. */
  expiresInSeconds?: number | undefined;
}

/** The token the relay verifies with SECRET_KEY: HS256, the credentials and options in the payload. */
export async function signConfigurationToken(payload: JWTPayload, secretKey: string, claims: TokenClaims | string = {}): Promise<string> {
  const { audience, expiresInSeconds } = typeof claims === 'string' ? { audience: claims, expiresInSeconds: undefined } : claims;
  const issuedAt = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(issuedAt);
  if (audience !== undefined) jwt = jwt.setAudience(audience);
  if (expiresInSeconds !== undefined) jwt = jwt.setExpirationTime(issuedAt + expiresInSeconds);
  return jwt.sign(new TextEncoder().encode(secretKey));
}

const PROVIDERS_WITH_CREDENTIALS = PROVIDERS.filter((provider) => provider.credentialsSchema !== null);
const CREDENTIAL_FLAGS = [...new Set(PROVIDERS_WITH_CREDENTIALS.flatMap((provider) => credentialFields(provider).map(credentialFlag)))];
const KNOWN_IDS = PROVIDERS_WITH_CREDENTIALS.map((provider) => provider.id).join(', ');

function describeProviders(): string {
  return PROVIDERS_WITH_CREDENTIALS.map((provider) => {
    const flags = credentialFields(provider).map((field) => `--${credentialFlag(field)}`);
    const variables = credentialFields(provider).map((field) => credentialEnvName(provider, field));
    return `  ${provider.id.padEnd(12)} ${flags.join(' ').padEnd(22)} ${variables.join(' ').padEnd(34)} (${provider.displayName})`;
  }).join('\n');
}

/** The providers named by `--provider a,b,c` (asked at a terminal when absent), in the order given. */
async function chooseProviders(text: string | undefined): Promise<Provider[]> {
  let chosen = text;
  if (chosen === undefined) {
    if (!canPrompt()) throw new UsageError('--provider is required');
    chosen = await ask(`Provider, or several separated by commas (${KNOWN_IDS}): `);
  }
  const ids = [...new Set(chosen.split(',').map((id) => id.trim()).filter((id) => id !== ''))];
  if (ids.length === 0) throw new UsageError(`--provider accepts ${KNOWN_IDS}, or several separated by commas (got ${JSON.stringify(chosen)})`);
  const providers: Provider[] = [];
  for (const id of ids) {
    const provider = PROVIDERS.find((candidate) => candidate.id === id);
    if (provider === undefined) throw new UsageError(`--provider accepts ${KNOWN_IDS}, or several separated by commas (got ${JSON.stringify(id)})`);
    if (provider.credentialsSchema === null) {
      if (ids.length === 1) throw new UsageError(`${provider.displayName} needs no credentials: its module reads no token.`);
      console.error(`${provider.id}: needs no credentials (it always runs); left out of the token`);
      continue;
    }
    providers.push(provider);
  }
  return providers;
}

/**
 * Each credential from its flag (one provider only: with several, a flag would not say whose),
 * else the environment, else a prompt at a terminal.
 */
async function readCredentials(provider: Provider, flags: Record<string, string | boolean | undefined>, flagsAllowed: boolean): Promise<Record<string, string>> {
  const credentials: Record<string, string> = {};
  for (const field of credentialFields(provider)) {
    const flag = credentialFlag(field);
    const variable = credentialEnvName(provider, field);
    let value = flagsAllowed && typeof flags[flag] === 'string' ? flags[flag] : undefined;
    if (value === undefined && process.env[variable] !== undefined && process.env[variable]?.trim() !== '') {
      value = process.env[variable];
      console.error(`${provider.id} ${field}: from ${variable}`);
    }
    if (value === undefined) {
      if (!canPrompt()) throw new UsageError(flagsAllowed ? `--${flag} is required for ${provider.id} (or set ${variable})` : `${variable} is required for ${provider.id}`);
      value = await askSecret(`${provider.displayName} ${field}: `);
    }
    credentials[field] = value.trim();
  }
  const parsed = provider.credentialsSchema?.safeParse(credentials);
  if (parsed?.success !== true) {
    throw new UsageError(`These are not ${provider.displayName} credentials: ${credentialFields(provider).join(' and ')} must be non-empty`);
  }
  return credentials;
}

function parseEntitiesLimitFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < 1 || value > ENTITIES_LIMIT_MAX) {
    throw new UsageError(`--entities-limit accepts a whole number from 1 to ${ENTITIES_LIMIT_MAX} (got ${JSON.stringify(text)})`);
  }
  return value;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 7 * 86_400 };
/** Ten years: beyond that `exp` says nothing a token without one does not. */
const MAX_EXPIRY_SECONDS = 3650 * 86_400;

/** `--expires-in 30d` (s, m, h, d or w) as seconds. */
export function parseExpiresIn(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  const seconds = match === null ? NaN : Number(match[1]) * (UNIT_SECONDS[(match[2] as string).toLowerCase()] as number);
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRY_SECONDS) {
    throw new UsageError(`--expires-in accepts a duration such as 3600s, 90m, 12h, 30d or 52w, up to 3650d (got ${JSON.stringify(text)})`);
  }
  return seconds;
}

/**
 * The key to sign with: --secret, else SECRET_KEY from the environment or .env (what the relay
 * reads), else a new one. Checked by the relay's own rule, so a token never needs a key the relay
 * would refuse to start with.
 */
function signingKey(given: string | undefined): { secretKey: string; isNew: boolean } {
  const fromEnv = process.env.SECRET_KEY?.trim();
  const [source, value] = given !== undefined ? ['--secret', given.trim()] : fromEnv !== undefined && fromEnv !== '' ? ['SECRET_KEY', fromEnv] : [undefined, undefined];
  if (source === undefined || value === undefined) {
    console.error(`No SECRET_KEY is set (environment or .env): made a new one (${SECRET_BYTES * 8} random bits). Set it in the relay's environment.`);
    return { secretKey: generateSecretKey(), isNew: true };
  }
  if (value === '') throw new UsageError('--secret is empty');
  const checked = coreSettingsSchema.shape.SECRET_KEY.safeParse(value);
  if (!checked.success) {
    const reason = checked.error.issues[0]?.message ?? `must be at least ${MIN_SECRET_KEY_BYTES} bytes`;
    throw new UsageError(`${source === '--secret' ? 'the key given with --secret' : 'SECRET_KEY'} ${reason}; the relay refuses to start with it`);
  }
  console.error(source === '--secret' ? 'Signing with the key given with --secret.' : 'Signing with SECRET_KEY from the environment (or .env).');
  return { secretKey: value, isNew: false };
}

/** `aud`: --audience as given, or with --public-url, PUBLIC_URL + `/<id>` (`/enrich` for several providers). */
function audienceFor(flags: Record<string, string | boolean | undefined>, path: string): string | undefined {
  const exact = typeof flags.audience === 'string' ? flags.audience.trim() : undefined;
  if (exact !== undefined && flags['public-url'] === true) throw new UsageError('--audience and --public-url both set the audience: give one');
  let base: string | undefined;
  if (exact !== undefined) {
    if (exact === '') throw new UsageError('--audience is empty');
    base = exact;
  } else if (flags['public-url'] === true) {
    const publicUrl = process.env.PUBLIC_URL?.trim();
    if (publicUrl === undefined || publicUrl === '') throw new UsageError('--public-url needs PUBLIC_URL in the environment or .env');
    base = `${publicUrl.replace(/\/+$/, '')}/${path}`;
  }
  if (base === undefined) return undefined;
  try {
    const url = new URL(base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`the audience must be an absolute http:// or https:// URL (got ${JSON.stringify(base)})`);
  }
  return base.replace(/\/+$/, '');
}

export const jwtCommand: Command = {
  name: 'jwt',
  summary: "Sign a token with a provider's credentials (with SECRET_KEY, or a new one)",
  help: `Usage: ctr-relay jwt --provider <id>[,<id>…] [credential flags] [--secret <key>]
                      [--entities-limit <n>] [--expires-in <duration>] [--audience <url> | --public-url]

Signs an HS256 token carrying the provider's credentials with the relay's SECRET_KEY: --secret,
else SECRET_KEY from the environment or a .env file in the working directory (as the relay reads
it). Only when none is set is a new SECRET_KEY made (256 random bits, 64 hex characters); it is
printed, and stderr says so: set it in the relay's environment. Send the token as
"Authorization: Bearer <token>" (Threat Response does it for a module).

One provider: the token is that module's token. It carries "provider": "<id>", and a relay
serving several modules accepts it on that module only (a key is never sent to another provider).
Several providers (--provider xforce,pulsedive,otx): a multi-provider token for the enrichment
endpoints, each provider's credentials under its id; credentials come from the environment or a
prompt only (a flag would not say whose).

A credential missing from the flags is taken from the environment (the variables below) or asked
for at the terminal without echo; flags are visible to other users in the process list.

Providers, their credential flags and variables:
${describeProviders()}

Options:
  --provider <ids>         Whose credentials the token carries (one id, or several with commas)
  --secret <key>           Sign with this key instead of SECRET_KEY (at least ${MIN_SECRET_KEY_BYTES} bytes)
  --entities-limit <n>     CTR_ENTITIES_LIMIT in the token (1 to ${ENTITIES_LIMIT_MAX})
  --expires-in <duration>  exp: the token stops working after this (e.g. 12h, 30d, 52w)
  --audience <url>         aud: the module URL the token is for (<public url>/<id>, or
                           <public url>/enrich for several providers); checked by the relay
  --public-url             aud from PUBLIC_URL (environment or .env): PUBLIC_URL/<id> or /enrich
  -h, --help               Show this help

Prints JWT=… on stdout (and SECRET_KEY=… first when a new key was made). Both are secrets: the
token carries the credentials.`,

  async run(args) {
    const options = {
      provider: { type: 'string' },
      secret: { type: 'string' },
      'entities-limit': { type: 'string' },
      'expires-in': { type: 'string' },
      audience: { type: 'string' },
      'public-url': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(CREDENTIAL_FLAGS.map((flag) => [flag, { type: 'string' }])),
    } as const;
    const { values } = parseCommandArgs(args, options as Record<string, { type: 'string' | 'boolean'; short?: string }>, false);
    const flags = values as Record<string, string | boolean | undefined>;
    if (flags.help === true) {
      console.log(this.help);
      return 0;
    }
    const entitiesLimit = parseEntitiesLimitFlag(typeof flags['entities-limit'] === 'string' ? flags['entities-limit'] : undefined);
    const expiresInSeconds = parseExpiresIn(typeof flags['expires-in'] === 'string' ? flags['expires-in'] : undefined);
    const providers = await chooseProviders(typeof flags.provider === 'string' ? flags.provider : undefined);
    const multi = providers.length > 1 || (providers.length === 1 && typeof flags.provider === 'string' && flags.provider.includes(','));
    if (providers.length === 0) throw new UsageError('none of the providers named needs credentials: no token is needed');
    const given = CREDENTIAL_FLAGS.filter((flag) => typeof flags[flag] === 'string');
    if (multi && given.length > 0) {
      throw new UsageError(`with several providers, credentials come from the environment (${providers.flatMap((p) => credentialFields(p).map((f) => credentialEnvName(p, f))).join(', ')}) or a prompt, not --${given[0]}`);
    }
    const audience = audienceFor(flags, multi ? 'enrich' : (providers[0] as Provider).id);
    const { secretKey, isNew } = signingKey(typeof flags.secret === 'string' ? flags.secret : undefined);

    const limit = entitiesLimit === undefined ? {} : { CTR_ENTITIES_LIMIT: entitiesLimit };
    let payload: JWTPayload;
    if (multi) {
      payload = { ...limit };
      for (const provider of providers) payload[provider.id] = await readCredentials(provider, flags, false);
    } else {
      const provider = providers[0] as Provider;
      payload = { ...(await readCredentials(provider, flags, true)), [PROVIDER_CLAIM]: provider.id, ...limit };
    }
    const token = await signConfigurationToken(payload, secretKey, { audience, expiresInSeconds });
    process.stdout.write(`${isNew ? `SECRET_KEY=${secretKey}\n` : ''}JWT=${token}\n`);
    const use = multi ? `the token for the enrichment endpoints (${providers.map((p) => p.id).join(', ')})` : `the JWT as the ${(providers[0] as Provider).displayName} module's token`;
    console.error(isNew ? `Set SECRET_KEY in the relay's environment; use ${use}. Keep both secret.` : `Use ${use}. Keep it secret.`);
    return 0;
  },
};
