// How the relay logs, for the app and for the main thread that serves its port (bridge/front.ts).
import type { FastifyServerOptions } from 'fastify';
import type { Settings } from './settings.js';

// Credentials never reach a log line; these paths are a second line of defence.
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-otx-api-key"]',
  'headers.authorization',
  'authorization',
  'credentials',
  '*.credentials',
  '*.password',
  '*.key',
  '*.token',
  '*.SECRET_KEY',
  '*.METRICS_TOKEN',
];

/** pino options: JSON lines (or pino-pretty when LOG_FORMAT=pretty), credentials redacted. */
export function loggerOptions(settings: Pick<Settings, 'LOG_LEVEL' | 'LOG_FORMAT'>): FastifyServerOptions['logger'] {
  const options = { level: settings.LOG_LEVEL, redact: { paths: REDACT, censor: '[redacted]' } };
  if (settings.LOG_FORMAT !== 'pretty') return options;
  return { ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } };
}
