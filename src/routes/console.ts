// The web console's front door: the built page at /console/ (static files from the build output,
// held in memory, gzip when asked), its session endpoints, and the security headers on every
// console answer. The page itself talks to the relay over HTTP only (see console/).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RelayError, invalidPayload } from '../core/errors.js';
import { documented } from '../core/openapi.js';
import { parseJsonBody } from '../core/observables.js';
import { lookup, type MountedModule } from '../core/relay.js';
import type { Settings } from '../core/settings.js';
import {
  SESSION_MESSAGES,
  clearedCookieHeader,
  cookieScope,
  openSession,
  requireConsoleHeader,
  sealSession,
  sealedCookieHeader,
  sessionCookieOf,
} from './console-session.js';

/**
 * No inline script or style, nothing from another host, no framing, no plugins, no <base>:
 * everything the page needs is its own script, its own stylesheet and the relay's API.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

interface StaticFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  cacheControl: string;
}

/** The build output next to the running code: dist/console from dist/routes, or from src/routes under tsx. */
export function defaultConsoleDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, '..', 'console'), join(here, '..', '..', 'dist', 'console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? (candidates[1] as string);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

/**
 * Every file of the build, read once: the page is a few small files. Files under `assets/` carry
 * a content hash in their name and are cached for a year; the rest (index.html) are revalidated.
 */
export function loadConsoleFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  if (!existsSync(join(dir, 'index.html'))) return files;
  for (const path of listFiles(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    const type = CONTENT_TYPES[extname(name)];
    if (type === undefined || name.endsWith('.map')) continue;
    const body = readFileSync(path);
    const compressible = type.startsWith('text/') || type.includes('json') || type.includes('svg');
    const gzip = compressible && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined;
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const cacheControl = name.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    files.set(name, { body, gzip, type, etag, cacheControl });
  }
  return files;
}

function isConsolePath(url: string): boolean {
  return url === '/console' || url.startsWith('/console/') || url.startsWith('/console?');
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  reply.header('content-type', file.type).header('cache-control', file.cacheControl).header('etag', file.etag).header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (file.gzip !== undefined && acceptsGzip) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

export interface ProviderKeyCheck {
  id: string;
  name: string;
  /** `ok`: the provider accepted the key; `rejected`: it refused it; `unverified`: it could not be asked. */
  status: 'ok' | 'rejected' | 'unverified';
  error?: { code: string; message: string };
}

const REJECTED_CODES = new Set(['authorization error', 'permission denied']);

/** The sign-in body: per provider id, the fields its credentials schema asks for. */
function parseSignIn(body: unknown, modules: readonly MountedModule[]): { credentials: Record<string, unknown>; modules: MountedModule[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidPayload('Expected an object of provider keys, e.g. {"otx": {"key": "…"}}.');
  }
  const credentials: Record<string, unknown> = {};
  const checked: MountedModule[] = [];
  for (const [id, value] of Object.entries(body as Record<string, unknown>)) {
    const module = modules.find((candidate) => candidate.provider.id === id);
    const keyed = modules.filter((candidate) => candidate.provider.credentialsSchema !== null).map((candidate) => candidate.provider.id);
    if (module === undefined || module.provider.credentialsSchema === null) {
      throw invalidPayload(`${JSON.stringify(id)} is not a mounted provider that takes keys; these do: ${keyed.join(', ')}.`);
    }
    const parsed = module.provider.credentialsSchema.safeParse(value);
    if (!parsed.success) throw invalidPayload(`The keys for ${module.provider.displayName} are incomplete: fill in every field, or none.`);
    credentials[id] = parsed.data;
    checked.push(module);
  }
  if (checked.length === 0) throw invalidPayload('Enter the keys of at least one provider.');
  return { credentials, modules: checked };
}

/** Each key checked with its provider's health endpoint logic, concurrently; never the keys in the answer. */
async function checkKeys(request: FastifyRequest, settings: Settings, modules: readonly MountedModule[], credentials: Record<string, unknown>): Promise<ProviderKeyCheck[]> {
  return Promise.all(
    modules.map(async (module): Promise<ProviderKeyCheck> => {
      const { id, displayName: name } = module.provider;
      try {
        await lookup(module, 'health', [], {
          credentials: credentials[id],
          entitiesLimit: settings.CTR_ENTITIES_LIMIT,
          settings,
          log: request.log,
          stats: { upstreamCalls: 0, cacheHits: 0 },
        });
        return { id, name, status: 'ok' };
      } catch (error) {
        const relayError = error instanceof RelayError ? error : new RelayError('unknown', 'Something went wrong.');
        const status = REJECTED_CODES.has(relayError.code) ? 'rejected' : 'unverified';
        return { id, name, status, error: { code: relayError.code, message: relayError.message } };
      }
    }),
  );
}

const sessionSchema = (summary: string) =>
  documented({ summary, tags: ['console'], description: `Needs the header X-Requested-By: ctr-relay-console.` });

export interface ConsoleOptions {
  settings: Settings;
  modules: readonly MountedModule[];
  /** The build output to serve; tests point it elsewhere. */
  dir?: string;
}

/** Everything under /console/: the page, its session, and the headers on every answer there. */
export function registerConsole(app: FastifyInstance, options: ConsoleOptions): void {
  const { settings, modules } = options;
  const dir = options.dir ?? defaultConsoleDir();
  const files = loadConsoleFiles(dir);

  // A callback hook, not an async one: every relay answer passes through it, and only console
  // answers are touched.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (isConsolePath(request.url)) reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });

  const notBuilt = (): RelayError => new RelayError('not found', 'The console has not been built on this relay: run npm run build.', { httpStatus: 404 });

  app.get('/console', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    // Relative, so it also lands right behind an ingress that serves the relay under a prefix.
    if (!path.endsWith('/')) return reply.code(308).header('location', 'console/').send();
    const index = files.get('index.html');
    if (index === undefined) throw notBuilt();
    return sendFile(request, reply, index);
  });

  app.get('/console/*', { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const file = files.get(name === '' ? 'index.html' : name);
    if (file === undefined) {
      if (files.size === 0) throw notBuilt();
      throw new RelayError('not found', `Nothing is served at /console/${name}.`, { httpStatus: 404 });
    }
    return sendFile(request, reply, file);
  });

  app.get('/console/session', sessionSchema('Whether the console is signed in, for which providers, until when (never the keys)'), async (request, reply) => {
    requireConsoleHeader(request);
    reply.header('cache-control', 'no-store');
    if (settings.SECRET_KEY === undefined) return { data: { signed_in: false, can_sign_in: false, reason: SESSION_MESSAGES.noSecret, providers: [] } };
    const opened = await openSession(sessionCookieOf(request), settings);
    if (opened.state !== 'open') {
      if (opened.state !== 'none') reply.header('set-cookie', clearedCookieHeader(cookieScope(request, settings)));
      return { data: { signed_in: false, can_sign_in: true, expired: opened.state === 'expired', providers: [] } };
    }
    const keyed = modules.filter((module) => module.provider.credentialsSchema !== null && opened.payload[module.provider.id] !== undefined);
    return {
      data: {
        signed_in: true,
        can_sign_in: true,
        expires_at: opened.expiresAt.toISOString(),
        providers: keyed.map((module) => module.provider.id),
      },
    };
  });

  app.post('/console/session', sessionSchema("Checks each provider's keys and seals them into the session cookie"), async (request, reply) => {
    requireConsoleHeader(request);
    reply.header('cache-control', 'no-store');
    if (settings.SECRET_KEY === undefined) throw new RelayError('authorization error', SESSION_MESSAGES.noSecret);
    const { credentials, modules: keyed } = parseSignIn(parseJsonBody(request.body), modules);
    const checks = await checkKeys(request, settings, keyed, credentials);
    const rejected = checks.filter((check) => check.status === 'rejected');
    if (rejected.length > 0) {
      const names = rejected.map((check) => check.name).join(', ');
      return {
        data: { signed_in: false, providers: checks },
        errors: [{ type: 'fatal', code: 'authorization error', message: `Authorization failed: ${names} refused the key; correct it, or leave its fields empty.` }],
      };
    }
    const sealed = await sealSession(credentials, settings);
    reply.header('set-cookie', sealedCookieHeader(sealed, cookieScope(request, settings)));
    return { data: { signed_in: true, expires_at: sealed.expiresAt.toISOString(), providers: checks } };
  });

  app.delete('/console/session', sessionSchema('Signs out: clears the session cookie'), async (request, reply) => {
    requireConsoleHeader(request);
    reply.header('cache-control', 'no-store').header('set-cookie', clearedCookieHeader(cookieScope(request, settings)));
    return { data: { signed_in: false } };
  });
}
