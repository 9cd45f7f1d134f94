// A scenario's provider and the environment the CLI reads its credentials from (XFORCE_KEY, …).
import assert from 'node:assert/strict';
import { credentialEnvName } from '../../src/cli/credentials.js';
import type { Provider } from '../../src/core/provider.js';
import { PROVIDERS } from '../../src/providers/registry.js';
import type { ProviderScenario } from './scenario.js';

export function providerOf(scenario: ProviderScenario): Provider {
  const provider = PROVIDERS.find((candidate) => candidate.id === scenario.providerId);
  assert.ok(provider, `${scenario.providerId} is registered`);
  return provider;
}

export function credentialEnv(scenario: ProviderScenario): Record<string, string> {
  const provider = providerOf(scenario);
  return Object.fromEntries(Object.entries(scenario.credentials ?? {}).map(([field, value]) => [credentialEnvName(provider, field), value]));
}
