// The enrichment core's public surface: front doors (server routes, CLI, MCP) import from here.
export { createEnricher, NO_CREDENTIALS, type Enricher, type EnricherDependencies } from './enricher.js';
export { extractObservables, refang } from './extract.js';
export { consensusOf, summariseProvider, MAX_TITLES } from './summary.js';
export type * from './types.js';
