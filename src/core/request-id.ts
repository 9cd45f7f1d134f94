// The request id, apart from the log controller so that the main thread (bridge/front.ts) names
// the probes it answers without loading Fastify.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Long enough for a UUID, a W3C trace id with its span, or a load balancer's own ids. */
export const MAX_REQUEST_ID_LENGTH = 128;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]+$/;

/**
 * The request id: the caller's `X-Request-Id` when it is at most MAX_REQUEST_ID_LENGTH characters
 * of letters, digits and `._:@/+=-` (nothing that could split a log line or a header), else a
 * new UUID. It is logged with every line of the request and echoed in the answer's `X-Request-Id`.
 */
export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  if (typeof given === 'string' && given.length > 0 && given.length <= MAX_REQUEST_ID_LENGTH && SAFE_REQUEST_ID.test(given)) return given;
  return randomUUID();
}
