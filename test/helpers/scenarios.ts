// Every provider's test scenario (fake upstream, credentials, observables), for the suites that
// run against all modules: the shared contract tests, the benchmark, the CLI tests.
import type { ProviderScenario } from './scenario.js';
import { cybercrimeTrackerScenario } from '../../src/providers/cybercrime-tracker/test-support/scenario.js';
import { c1fappScenario } from '../../src/providers/c1fapp/test-support/scenario.js';

export const SCENARIOS: readonly ProviderScenario[] = [cybercrimeTrackerScenario, c1fappScenario];
