// Every provider module the relay knows. Adding one is a folder under providers/ and a line here.
import type { Provider } from '../core/provider.js';
import { xforce } from './xforce/index.js';
import { pulsedive } from './pulsedive/index.js';
import { cybercrimeTracker } from './cybercrime-tracker/index.js';
import { otx } from './otx/index.js';
import { c1fapp } from './c1fapp/index.js';

export const PROVIDERS: readonly Provider[] = [xforce, pulsedive, cybercrimeTracker, otx, c1fapp];
