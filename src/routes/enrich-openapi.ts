// The enrichment routes' schemas, for the OpenAPI document only (see core/openapi.ts `documented`).
import type { FastifySchema } from 'fastify';
import { BEARER_SCHEME, errorAnswer } from '../core/openapi.js';
import { ERROR_CODES } from '../core/errors.js';
import { OBSERVABLE_TYPES } from '../core/validators.js';

const tags = ['enrichment'];

const observable = {
  type: 'object',
  required: ['type', 'value'],
  properties: { type: { type: 'string', enum: [...OBSERVABLE_TYPES] }, value: { type: 'string' } },
} as const;

const withheld = {
  type: 'array',
  description: 'Observables the privacy guard kept back (private or internal): never sent to any provider.',
  items: {
    type: 'object',
    required: ['type', 'value', 'reason'],
    properties: { type: { type: 'string' }, value: { type: 'string' }, reason: { type: 'string' } },
  },
} as const;

const errors = {
  type: 'array',
  items: {
    type: 'object',
    properties: { type: { type: 'string', enum: ['fatal'] }, code: { type: 'string', enum: [...ERROR_CODES] }, message: { type: 'string' } },
  },
} as const;

const disposition = {
  disposition: { type: 'integer', enum: [1, 2, 3, 4, 5] },
  disposition_name: { type: 'string', enum: ['Clean', 'Malicious', 'Suspicious', 'Common', 'Unknown'] },
} as const;

const consensus = {
  type: 'object',
  description: 'The most severe verdict any provider gave (Malicious > Suspicious > Clean > Unknown); 5 Unknown when none gave one.',
  properties: {
    ...disposition,
    malicious: { type: 'integer' },
    suspicious: { type: 'integer' },
    clean: { type: 'integer' },
    unknown: { type: 'integer' },
    answered: { type: 'integer' },
  },
} as const;

const providerResult = {
  type: 'object',
  required: ['id', 'name', 'status'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string', enum: ['ok', 'error', 'skipped'] },
    verdict: { type: 'object', properties: disposition },
    counts: {
      type: 'object',
      properties: { judgements: { type: 'integer' }, sightings: { type: 'integer' }, indicators: { type: 'integer' }, relationships: { type: 'integer' } },
    },
    titles: { type: 'array', items: { type: 'string' }, maxItems: 5 },
    first_seen: { type: 'string', format: 'date-time' },
    last_seen: { type: 'string', format: 'date-time' },
    links: { type: 'array', items: { type: 'object', properties: { title: { type: 'string' }, url: { type: 'string' } } } },
    ctim: { type: 'object', additionalProperties: true, description: "The module's observe answer for this observable (left out with ctim=false)." },
    error: { type: 'object', properties: { code: { type: 'string', enum: [...ERROR_CODES] }, message: { type: 'string' } } },
    reason: { type: 'string', description: 'Why it was skipped: `no credentials`.' },
  },
} as const;

export const enrichRouteSchemas = {
  providers: {
    summary: 'The mounted providers, their observable types and the credential fields each needs',
    description: 'No token needed: a client asks this before it asks the analyst for keys.',
    tags,
    response: {
      200: {
        type: 'object',
        properties: {
          data: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                name: { type: 'string' },
                supported_types: { type: 'array', items: { type: 'string', enum: [...OBSERVABLE_TYPES] } },
                credentials: {
                  type: 'array',
                  items: { type: 'object', properties: { name: { type: 'string' }, secret: { type: 'boolean' } } },
                },
              },
            },
          },
        },
      },
    },
  },
  inspect: {
    summary: 'Observables found in any text (refanged, validated, de-duplicated, in order)',
    description: 'No token needed and no provider is called.',
    tags,
    body: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    response: {
      200: {
        type: 'object',
        properties: {
          data: { type: 'object', properties: { observables: { type: 'array', items: observable }, withheld } },
          errors,
        },
      },
      413: errorAnswer,
    },
  },
  observables: {
    summary: 'Every provider at once: a summary per provider and one consensus verdict per observable',
    description:
      'With `Accept: application/x-ndjson` the answer streams as lines: `{"observable", "provider"}` per provider result, ' +
      '`{"observable", "verdict"}` when an observable is done, and a last `{"done": true, "withheld"}`. ' +
      'The token carries each provider’s credentials under its id; a provider without them is skipped.',
    tags,
    security: [{ [BEARER_SCHEME]: [] }],
    querystring: {
      type: 'object',
      properties: {
        providers: { type: 'string', description: 'Comma-separated provider ids to ask (default: all mounted)' },
        ctim: { type: 'boolean', description: "false leaves each provider's CTIM answer out", default: true },
      },
    },
    body: { type: 'array', items: observable, description: 'The relay API body: observables of any supported type.' },
    response: {
      200: {
        description: 'The answer (errors, e.g. authorization, are answered with HTTP 200 in `errors`).',
        type: 'object',
        properties: {
          data: {
            type: 'object',
            properties: {
              observables: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { type: { type: 'string' }, value: { type: 'string' }, verdict: consensus, providers: { type: 'array', items: providerResult } },
                },
              },
              withheld,
            },
          },
          errors,
        },
      },
    },
  },
} satisfies Record<string, FastifySchema>;
