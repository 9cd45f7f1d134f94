// Request logging that stays useful at `info`: probes and metrics scrapes (a line or two every few
// seconds per pod, all alike) are written at `debug`; every other request as Fastify writes it.
// And the request id: the caller's `X-Request-Id` when it is short and plain, else a new one.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** Routes whose request lines are written at `debug`. */
export const QUIET_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

// From the raw path (query and trailing slashes off), not request.routeOptions, which builds an
// object on every read; this runs twice per request.
function isQuiet(request: FastifyRequest): boolean {
  const url = request.raw.url ?? '';
  const query = url.indexOf('?');
  const path = (query === -1 ? url : url.slice(0, query)).replace(/\/+$/, '');
  return QUIET_ROUTES.has(path);
}

/** Fastify's request lines, at `debug` for QUIET_ROUTES (errors keep their level). */
export class QuietProbesLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (!isQuiet(request)) return super.incomingRequest(request, reply, metadata);
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error || !isQuiet(request)) return super.requestCompleted(error, request, reply, metadata);
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

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
