// What a provider's token carries, read from its registered credentialsSchema: the CLI asks the
// environment for these fields, the enrichment API lists them so a client (the console) can ask
// the analyst for them.
import { z } from 'zod/v4';
import type { Provider } from './provider.js';

export interface CredentialField {
  name: string;
  /** Whether a client should mask it (a password input) and never show it back. */
  secret: boolean;
}

/** The object schema under refinements and transforms, if the schema is one. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  if (schema instanceof z.ZodObject) return schema.shape as Record<string, z.ZodType>;
  // A transform or refinement in zod's v4 API is a pipe whose input is the object.
  if (schema instanceof z.ZodPipe) return objectShape(schema.in as z.ZodType);
  return undefined;
}

/** The token payload fields a provider needs (`key`, `password`); none for a provider without credentials. */
export function credentialFields(provider: Provider): string[] {
  if (provider.credentialsSchema === null) return [];
  return Object.keys(objectShape(provider.credentialsSchema as z.ZodType) ?? {});
}

// Only fields that name an account are shown as typed; every key, password and token is secret
// (X-Force's API key is half of a key pair, but still grants access on its own to some calls).
const PUBLIC_FIELD = /^(user(name)?|login|account|email|client_?id)$/i;

/** The fields with whether each is secret, in the schema's order. */
export function describeCredentialFields(provider: Provider): CredentialField[] {
  return credentialFields(provider).map((name) => ({ name, secret: !PUBLIC_FIELD.test(name) }));
}
