// `ctr-relay jwt`: a SECRET_KEY (256 random bits) and an HS256 token carrying a provider's
// credentials, for a self-hosted relay (the originals' "jwt" tool, for all five providers).
import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { Provider } from '../core/provider.js';
import { ENTITIES_LIMIT_MAX } from '../core/settings.js';
import { PROVIDERS } from '../providers/registry.js';
import { parseCommandArgs, type Command } from './command.js';
import { credentialEnvName, credentialFields, credentialFlag } from './credentials.js';
import { ask, askSecret, canPrompt } from './prompt.js';
import { UsageError } from './usage-error.js';

const SECRET_BYTES = 32;

export function generateSecretKey(): string {
  return randomBytes(SECRET_BYTES).toString('hex');
}

/** The token the relay verifies with SECRET_KEY: HS256, the credentials and options in the payload. */
export async function signConfigurationToken(payload: JWTPayload, secretKey: string, audience?: string): Promise<string> {
  let jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (audience !== undefined) jwt = jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secretKey));
}

const PROVIDERS_WITH_CREDENTIALS = PROVIDERS.filter((provider) => provider.credentialsSchema !== null);
const CREDENTIAL_FLAGS = [...new Set(PROVIDERS_WITH_CREDENTIALS.flatMap((provider) => credentialFields(provider).map(credentialFlag)))];

function describeProviders(): string {
  return PROVIDERS_WITH_CREDENTIALS.map((provider) => {
    const flags = credentialFields(provider).map((field) => `--${credentialFlag(field)}`);
    return `  ${provider.id.padEnd(12)} ${flags.join(' ')}   (${provider.displayName})`;
  }).join('\n');
}

async function chooseProvider(id: string | undefined): Promise<Provider> {
  let chosen = id;
  if (chosen === undefined) {
    if (!canPrompt()) throw new UsageError('--provider is required');
    chosen = (await ask(`Provider (${PROVIDERS_WITH_CREDENTIALS.map((provider) => provider.id).join(', ')}): `)).trim();
  }
  const provider = PROVIDERS.find((candidate) => candidate.id === chosen);
  if (provider === undefined) {
    throw new UsageError(`--provider accepts ${PROVIDERS_WITH_CREDENTIALS.map((candidate) => candidate.id).join(', ')} (got ${JSON.stringify(chosen)})`);
  }
  if (provider.credentialsSchema === null) throw new UsageError(`${provider.displayName} needs no credentials: its module reads no token.`);
  return provider;
}

/** Each credential from its flag, else the environment, else a prompt at a terminal. */
async function readCredentials(provider: Provider, flags: Record<string, string | boolean | undefined>): Promise<Record<string, string>> {
  const credentials: Record<string, string> = {};
  for (const field of credentialFields(provider)) {
    const flag = credentialFlag(field);
    const variable = credentialEnvName(provider, field);
    let value = typeof flags[flag] === 'string' ? flags[flag] : undefined;
    if (value === undefined && process.env[variable] !== undefined && process.env[variable]?.trim() !== '') {
      value = process.env[variable];
      console.error(`${field}: from ${variable}`);
    }
    if (value === undefined) {
      if (!canPrompt()) throw new UsageError(`--${flag} is required for ${provider.id} (or set ${variable})`);
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

export const jwtCommand: Command = {
  name: 'jwt',
  summary: "Make a SECRET_KEY and sign a token with a provider's credentials",
  help: `Usage: ctr-relay jwt --provider <id> [credential flags] [--secret <key>] [--entities-limit <n>] [--audience <url>]

Makes a SECRET_KEY (256 random bits, 64 hex characters) unless --secret is given, and signs an
HS256 token carrying the provider's credentials. Set SECRET_KEY in the relay's environment and
send the token as "Authorization: Bearer <token>" (Threat Response does it for a module).
A credential missing from the flags is taken from the environment (XFORCE_KEY, …) or asked for
at the terminal without echo; flags are visible to other users in the process list.

Providers and their credential flags:
${describeProviders()}

Options:
  --provider <id>          Whose credentials the token carries
  --secret <key>           Sign with this SECRET_KEY (e.g. "$SECRET_KEY") instead of a new one
  --entities-limit <n>     CTR_ENTITIES_LIMIT in the token (1 to ${ENTITIES_LIMIT_MAX})
  --audience <url>         The module URL the token is for (aud); checked by the relay when set
  -h, --help               Show this help

Prints SECRET_KEY=… and JWT=… on stdout. Both are secrets: the token carries the credentials.`,

  async run(args) {
    const options = {
      provider: { type: 'string' },
      secret: { type: 'string' },
      'entities-limit': { type: 'string' },
      audience: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(CREDENTIAL_FLAGS.map((flag) => [flag, { type: 'string' }])),
    } as const;
    const { values } = parseCommandArgs(args, options as Record<string, { type: 'string' | 'boolean'; short?: string }>, false);
    const flags = values as Record<string, string | boolean | undefined>;
    if (flags.help === true) {
      console.log(this.help);
      return 0;
    }
    const provider = await chooseProvider(typeof flags.provider === 'string' ? flags.provider : undefined);
    const credentials = await readCredentials(provider, flags);
    const entitiesLimit = parseEntitiesLimitFlag(typeof flags['entities-limit'] === 'string' ? flags['entities-limit'] : undefined);
    const given = typeof flags.secret === 'string' ? flags.secret.trim() : undefined;
    if (given === '') throw new UsageError('--secret is empty');
    if (given !== undefined && given.length < 32) console.error('warning: a SECRET_KEY shorter than 32 characters is easy to guess; omit --secret to get a new one');
    const secretKey = given ?? generateSecretKey();
    const payload: JWTPayload = { ...credentials, ...(entitiesLimit === undefined ? {} : { CTR_ENTITIES_LIMIT: entitiesLimit }) };
    const audience = typeof flags.audience === 'string' ? flags.audience.replace(/\/+$/, '') : undefined;
    const token = await signConfigurationToken(payload, secretKey, audience);
    process.stdout.write(`SECRET_KEY=${secretKey}\nJWT=${token}\n`);
    console.error(`Set SECRET_KEY in the relay's environment; use the JWT as the ${provider.displayName} module's token. Keep both secret.`);
    return 0;
  },
};
