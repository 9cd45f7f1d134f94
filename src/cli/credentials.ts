// What a provider's token carries, read from its registered credentialsSchema, and where the CLI
// finds each value in the environment: `<ID>_<FIELD>` (XFORCE_KEY, XFORCE_PASSWORD, OTX_KEY, …).
import type { Provider } from '../core/provider.js';
import { credentialFields } from '../core/credential-fields.js';

export { credentialFields };

export function credentialEnvName(provider: Provider, field: string): string {
  const snake = (text: string) => text.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
  return `${snake(provider.id)}_${snake(field)}`;
}

/** `--key`, `--password`: the flag of a credential field. */
export function credentialFlag(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export type CredentialsLookup =
  | { status: 'none' }
  | { status: 'found'; credentials: unknown }
  | { status: 'missing'; variables: string[] }
  | { status: 'invalid'; variables: string[] };

/** The provider's credentials from the environment, checked by its own schema. */
export function credentialsFromEnv(provider: Provider, env: NodeJS.ProcessEnv): CredentialsLookup {
  if (provider.credentialsSchema === null) return { status: 'none' };
  const fields = credentialFields(provider);
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const field of fields) {
    const value = env[credentialEnvName(provider, field)]?.trim();
    if (value === undefined || value === '') missing.push(credentialEnvName(provider, field));
    else values[field] = value;
  }
  if (missing.length > 0) return { status: 'missing', variables: missing };
  const parsed = provider.credentialsSchema.safeParse(values);
  if (!parsed.success) return { status: 'invalid', variables: fields.map((field) => credentialEnvName(provider, field)) };
  return { status: 'found', credentials: parsed.data };
}
