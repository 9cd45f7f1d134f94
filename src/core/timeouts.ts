// Time limits for slow clients, all derived from REQUEST_DEADLINE_MS: a client has the deadline
// to send its whole request (headers within 10 s of it), and an idle connection is closed once
// no answer could still be coming. Node checks the first two every `connectionsCheckingInterval`.
import type { Settings } from './settings.js';

export interface ServerTimeouts {
  /** The whole request (headers and body) must have arrived by then: 408 and close otherwise. */
  requestTimeout: number;
  /** The headers must have arrived by then. */
  headersTimeout: number;
  /** A socket with no traffic at all for this long is closed (longer than any answer takes to start). */
  connectionTimeout: number;
  /** How often Node looks for requests past the first two limits. */
  connectionsCheckingInterval: number;
}

export function serverTimeouts(settings: Pick<Settings, 'REQUEST_DEADLINE_MS'>): ServerTimeouts {
  const deadline = settings.REQUEST_DEADLINE_MS;
  const requestTimeout = deadline;
  const headersTimeout = Math.min(10_000, deadline);
  return {
    requestTimeout,
    headersTimeout,
    // The answer is computed within the deadline; its first bytes then go out at once.
    connectionTimeout: deadline + 10_000,
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(headersTimeout / 4))),
  };
}
