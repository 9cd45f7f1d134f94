// Request logging that stays useful at `info`: probes and metrics scrapes (a line or two every few
// seconds per pod, all alike) are written at `debug`; every other request as Fastify writes it.
// The request id is in request-id.ts.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export { MAX_REQUEST_ID_LENGTH, requestIdFor } from './request-id.js';

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
