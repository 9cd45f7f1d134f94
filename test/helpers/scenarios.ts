// Every provider's test scenario (fake upstream, credentials, observables), for the suites that
// run against all modules: the shared contract tests, the benchmark, the CLI tests.
import type { ProviderScenario } from './scenario.js';
import { cybercrimeTrackerScenario } from '../../src/providers/cybercrime-tracker/test-support/scenario.js';
import { c1fappScenario } from '../../src/providers/c1fapp/test-support/scenario.js';
import { pulsediveScenario } from '../../src/providers/pulsedive/test-support/scenario.js';
import { xforceScenario } from '../../src/providers/xforce/test-support/scenario.js';
import { otxScenario } from '../../src/providers/otx/test-support/scenario.js';

export const SCENARIOS: readonly ProviderScenario[] = [cybercrimeTrackerScenario, xforceScenario, pulsediveScenario, otxScenario, c1fappScenario];
