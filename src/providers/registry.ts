// Every provider module the relay knows. Adding one is a folder under providers/ and a line here.
import type { Provider } from '../core/provider.js';
import { cybercrimeTracker } from './cybercrime-tracker/index.js';

export const PROVIDERS: readonly Provider[] = [cybercrimeTracker];
