// The module type JSON that registers a module in Threat Response/XDR (Administration →
// Integration Modules → module types): built from the provider's registration, no I/O.
import type { Provider } from '../core/provider.js';
import { ENTITIES_LIMIT_DEFAULT, ENTITIES_LIMIT_MAX } from '../core/settings.js';
import { credentialFields } from './credentials.js';
import { MODULE_DESCRIPTIONS } from './module-descriptions.js';

export const DEFAULT_JWKS_HOST = 'visibility.amp.cisco.com';

export interface ModuleTypeOptions {
  /** The relay's public URL, or the module's own (`…/<id>`). */
  url: string;
  algorithm: 'HS256' | 'RS256';
  jwksHost?: string;
}

export interface ConfigurationField {
  key: string;
  type: 'api_key' | 'password' | 'integer' | 'string';
  label: string;
  tooltip: string;
  required: boolean;
}

/** `https://relay.example.com` → `https://relay.example.com/xforce`; a URL already ending in the id is kept. */
export function moduleUrl(url: string, id: string): string {
  const base = url.trim().replace(/\/+$/, '');
  return base.endsWith(`/${id}`) ? base : `${base}/${id}`;
}

function label(field: string): string {
  if (field === 'key') return 'API Key';
  if (field === 'password') return 'API Password';
  return field.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (first) => first.toUpperCase());
}

/** Threat Response puts `custom_<name>` fields into the token payload as `<name>`. */
export function configurationSpec(provider: Provider): ConfigurationField[] {
  const fields: ConfigurationField[] = credentialFields(provider).map((field) => ({
    key: `custom_${field}`,
    // Both types are masked by Threat Response; `api_key` is what it shows for keys.
    type: field === 'key' ? 'api_key' : 'password',
    label: `${provider.displayName} ${label(field)}`,
    tooltip: `Your ${provider.displayName} ${label(field)}`,
    required: true,
  }));
  fields.push({
    key: 'custom_CTR_ENTITIES_LIMIT',
    type: 'integer',
    label: 'Entities Limit',
    tooltip: `Restricts the maximum number of \`Sightings\`, \`Indicators\` and \`Judgements\` per observable (1 to ${ENTITIES_LIMIT_MAX}, default ${ENTITIES_LIMIT_DEFAULT})`,
    required: false,
  });
  return fields;
}

export function buildModuleType(provider: Provider, options: ModuleTypeOptions) {
  const types = provider.supportedTypes.join(', ');
  const description = MODULE_DESCRIPTIONS[provider.id] ?? {
    shortDescription: `${provider.displayName} threat intelligence through ctr-relay.`,
    description: `Queries ${provider.displayName} through ctr-relay for ${types}.`,
  };
  const capabilities = [{ id: 'health', description: `Checks the credentials with one call to ${provider.displayName}` }];
  const apis = ['health'];
  if (provider.deliberate !== undefined) {
    capabilities.push({ id: 'deliberate', description: `Verdicts from ${provider.displayName} for ${types}` });
    apis.push('deliberate/observables');
  }
  capabilities.push({ id: 'observe', description: `Enrichment from ${provider.displayName} for ${types}` });
  apis.push('observe/observables');
  if (provider.refer !== undefined) {
    capabilities.push({ id: 'refer', description: `Links to ${provider.displayName} for ${types}` });
    apis.push('refer/observables');
  }

  const needsToken = provider.credentialsSchema !== null;
  const authentication = !needsToken
    ? {}
    : options.algorithm === 'RS256'
      ? { 'auth-type': 'configuration-token', 'configuration-token-alg': 'RS256', custom_jwks_host: options.jwksHost ?? DEFAULT_JWKS_HOST }
      : { 'auth-type': 'configuration-token', 'configuration-token-alg': 'HS256' };

  return {
    title: `${provider.displayName} (ctr-relay)`,
    default_name: provider.displayName,
    short_description: description.shortDescription,
    description: description.description,
    tips: needsToken
      ? `Enter your ${provider.displayName} credentials below. The relay at ${moduleUrl(options.url, provider.id)} reads them from the module's token and never stores them.`
      : `${provider.displayName} needs no credentials: name the module and save it.`,
    ...(description.references === undefined ? {} : { external_references: description.references }),
    ...(needsToken ? { configuration_spec: configurationSpec(provider) } : {}),
    capabilities,
    properties: { url: moduleUrl(options.url, provider.id), 'supported-apis': apis, ...authentication },
  };
}
