// The relay as a real server on a random loopback port, built from an env object.
import type { AddressInfo } from 'node:net';
import { buildApp, loggerOptions, type RelayApp } from '../../src/app.js';
import { loadSettings, type Env } from '../../src/core/settings.js';
import { PROVIDERS } from '../../src/providers/registry.js';
import type { Provider } from '../../src/core/provider.js';

export interface RunningRelay {
  url: string;
  app: RelayApp;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<RelayAnswer>;
  get(path: string, headers?: Record<string, string>): Promise<RelayAnswer>;
  close(): Promise<void>;
}

export interface RelayAnswer {
  status: number;
  json: any;
  headers: Headers;
}

export interface StartOptions {
  logger?: unknown;
  providers?: readonly Provider[];
  /** Every log line (the app's own logger settings, level trace) is written here. */
  logLines?: string[];
  /** The web console's build output to serve (see scripts/build-console.mjs). */
  consoleDir?: string;
}

export async function startRelay(env: Env = {}, options: StartOptions = {}): Promise<RunningRelay> {
  const providers = options.providers ?? PROVIDERS;
  // Tests change a fake's answers between calls, so the upstream cache and the providers' rate
  // limits are off unless a test turns them on (CACHE=on, RATE_LIMITS=on).
  const settings = loadSettings({ LOG_LEVEL: 'silent', CACHE: 'off', RATE_LIMITS: 'off', ...env }, providers);
  const lines = options.logLines;
  const logger =
    lines !== undefined
      ? { ...(loggerOptions(settings) as object), level: 'trace', stream: { write: (line: string) => void lines.push(line) } }
      : options.logger;
  const app = await buildApp({
    settings,
    providers,
    ...(logger === undefined ? {} : { logger: logger as never }),
    ...(options.consoleDir === undefined ? {} : { consoleDir: options.consoleDir }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  async function call(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(url + path, init);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json: json as any, headers: response.headers };
  }
  return {
    url,
    app,
    post: (path, body, headers) => call('POST', path, body, headers),
    get: (path, headers) => call('GET', path, undefined, headers),
    close: () => app.close(),
  };
}
