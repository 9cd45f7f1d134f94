// The OpenAPI 3 description of the relay (GET /openapi.json) and its docs page (/docs), generated
// from the route schemas. The schemas only document: the relay parses and answers bodies itself
// (every malformed body gets the contract's `invalid argument`), so routes that carry a schema
// skip Fastify's validation and serialise answers as they are.
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler, FastifySerializerCompiler, RouteShorthandOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ERROR_CODES } from './errors.js';
import type { Provider } from './provider.js';

export const BEARER_SCHEME = 'configurationToken';

const acceptEverything: FastifySchemaCompiler<unknown> = () => () => true;
// Bytes, not the string: V8 builds a large JSON.stringify result in pieces, and Node would join
// it to the headers and flatten it again before writing; one Buffer.from does it once, off the heap.
const plainJson = (() => (data: unknown) => {
  const text: string | undefined = JSON.stringify(data);
  return text === undefined ? text : Buffer.from(text);
}) as unknown as FastifySerializerCompiler<unknown>;

/** Route options that attach `schema` for the docs only: no validation, no reshaping of answers. */
export function documented(schema: FastifySchema): RouteShorthandOptions {
  return { schema, validatorCompiler: acceptEverything, serializerCompiler: plainJson };
}

const errorDocument = {
  type: 'object',
  required: ['type', 'code', 'message'],
  properties: {
    type: { type: 'string', enum: ['fatal'] },
    code: { type: 'string', enum: [...ERROR_CODES] },
    message: { type: 'string' },
    observables: {
      type: 'array',
      description: 'With ERROR_OBSERVABLES=on: the observables this error is about (the first 20).',
      items: { type: 'object', properties: { type: { type: 'string' }, value: { type: 'string' } } },
    },
    observablesCount: { type: 'integer', description: 'With ERROR_OBSERVABLES=on: how many observables failed with this error.' },
  },
} as const;

const errors = { type: 'array', items: errorDocument, description: 'Present when something failed.' } as const;

/** Every error answer (404, 405, 413, 401 on /metrics) has this shape. */
export const errorAnswer = { type: 'object', required: ['errors'], properties: { errors } } as const;

const docs = (description: string) =>
  ({
    type: 'object',
    description,
    properties: { count: { type: 'integer' }, docs: { type: 'array', items: { type: 'object', additionalProperties: true } } },
  }) as const;

function observablesBody(provider: Provider) {
  return {
    type: 'array',
    description: `Observables to look up. ${provider.displayName} supports ${provider.supportedTypes.join(', ')}; other types are dropped silently.`,
    items: {
      type: 'object',
      required: ['type', 'value'],
      properties: { type: { type: 'string', minLength: 1 }, value: { type: 'string', minLength: 1 } },
    },
  } as const;
}

function answer(data: Record<string, unknown>) {
  return {
    200: {
      description: 'The answer; errors are answered with HTTP 200 too, in `errors`, next to whatever succeeded.',
      type: 'object',
      properties: { data, errors },
    },
  };
}

const bundleData = {
  type: 'object',
  description: 'CTIM entities by type; empty lists are left out.',
  properties: {
    verdicts: docs('Verdicts'),
    judgements: docs('Judgements'),
    indicators: docs('Indicators'),
    sightings: docs('Sightings'),
    relationships: docs('Relationships'),
  },
} as const;

const referData = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      title: { type: 'string' },
      description: { type: 'string' },
      url: { type: 'string' },
      categories: { type: 'array', items: { type: 'string' } },
    },
  },
} as const;

export type DocumentedEndpoint = 'health' | 'deliberate' | 'observe' | 'refer' | 'version' | 'watchdog';

/** The schema of one module route, for the docs. */
export function moduleRouteSchema(provider: Provider, endpoint: DocumentedEndpoint): FastifySchema {
  const tags = [`${provider.displayName} (${provider.id})`];
  const security = provider.credentialsSchema === null ? [] : [{ [BEARER_SCHEME]: [] }];
  switch (endpoint) {
    case 'health':
      return {
        summary: `Checks the credentials with one call to ${provider.displayName}`,
        tags,
        security,
        response: answer({ type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } }),
      };
    case 'deliberate':
      return {
        summary: 'Verdicts for observables',
        tags,
        security: provider.deliberate === undefined ? [] : security,
        body: observablesBody(provider),
        response: answer({ type: 'object', properties: { verdicts: docs('Verdicts') } }),
      };
    case 'observe':
      return { summary: 'Enrichment: CTIM entities for observables', tags, security, body: observablesBody(provider), response: answer(bundleData) };
    case 'refer':
      return {
        summary: `Links to ${provider.displayName} pages for observables`,
        tags,
        security: provider.referNeedsCredentials === true ? security : [],
        body: observablesBody(provider),
        response: answer(referData),
      };
    case 'version':
      return {
        summary: 'The relay version',
        tags,
        response: { 200: { type: 'object', properties: { version: { type: 'string' } } } },
      };
    case 'watchdog':
      return {
        summary: 'Echoes the Health-Check header',
        tags,
        headers: { type: 'object', properties: { 'health-check': { type: 'string' } } },
        response: answer({ type: 'string' }),
      };
  }
}

/** Schemas of the server's own routes. */
export const serverRouteSchemas = {
  root: {
    summary: 'Name, version and mounted modules',
    tags: ['operations'],
    response: {
      200: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          version: { type: 'string' },
          modules: {
            type: 'array',
            items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, path: { type: 'string' } } },
          },
        },
      },
    },
  },
  liveness: {
    summary: 'Liveness: the process serves',
    tags: ['operations'],
    response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
  },
  readiness: {
    summary: 'Readiness: settings loaded, listening, not shutting down',
    tags: ['operations'],
    response: { 200: { type: 'object', properties: { status: { type: 'string' } } }, 503: errorAnswer },
  },
} satisfies Record<string, FastifySchema>;

/**
 * Registers the generator (it records every route added afterwards, so call it first), the
 * `/openapi.json` route and the docs page at `/docs`; none of them with `enabled: false` (DOCS=off),
 * where both paths answer 404 like any unknown one.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  info: { title: string; version: string; description: string },
  options: { enabled?: boolean } = {},
): Promise<void> {
  if (options.enabled === false) return;
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info,
      tags: [{ name: 'operations', description: 'For operators and orchestrators' }],
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: "The module's configuration token (HS256 with SECRET_KEY, or RS256 from Threat Response).",
          },
        },
      },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
