// What `lookup` and `mcp` run the providers with, in this process: the mounted modules behind the
// same upstream gate as the server (cache, single-flight, rate limits, cool-downs; shared through
// Redis when REDIS_URL is set), the keys from the environment, and a logger on stderr.
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { mountModules } from '../app.js';
import { openGateResources, type GateResources } from '../core/cached-http.js';
import type { Provider } from '../core/provider.js';
import type { MountedModule } from '../core/relay.js';
import { SettingsError, loadSettings, type Settings } from '../core/settings.js';
import { credentialsFromEnv } from './credentials.js';
import { UsageError } from './usage-error.js';

/** The settings from the environment (and .env), `--providers` over PROVIDERS; a bad one is a usage mistake. */
export function settingsFor(providers: string | undefined, all: readonly Provider[], env: NodeJS.ProcessEnv = process.env): Settings {
  try {
    return loadSettings({ ...env, ...(providers === undefined ? {} : { PROVIDERS: providers }) }, all);
  } catch (error) {
    if (error instanceof SettingsError) throw new UsageError(error.message);
    throw error;
  }
}

export interface InProcess {
  settings: Settings;
  modules: MountedModule[];
  gates: GateResources;
  /** Per provider id, the credentials found in the environment; absent for a provider without them. */
  credentials: Record<string, unknown>;
  /** Notes for the user about providers that cannot run (missing or invalid keys), one per provider. */
  notes: string[];
  log: FastifyBaseLogger;
  close(): Promise<void>;
}

/** Providers' and the gate's log lines go to stderr (fd 2): stdout carries the answer, or the MCP protocol. */
export function stderrLogger(level: string | undefined): FastifyBaseLogger {
  return pino({ level: level ?? 'error', redact: { paths: ['credentials', '*.credentials', '*.password', '*.key'], censor: '[redacted]' } }, pino.destination(2)) as unknown as FastifyBaseLogger;
}

/** The environment's keys for every mounted provider that needs some, and a note for each that has none usable. */
export function credentialsFor(providers: readonly Provider[], env: NodeJS.ProcessEnv): { credentials: Record<string, unknown>; notes: string[] } {
  const credentials: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const provider of providers) {
    const found = credentialsFromEnv(provider, env);
    if (found.status === 'found') credentials[provider.id] = found.credentials;
    else if (found.status !== 'none') {
      const what = found.status === 'missing' ? 'set' : 'check';
      notes.push(`skipped ${provider.displayName}: ${what} ${found.variables.join(' and ')} (environment or .env)`);
    }
  }
  return { credentials, notes };
}

export async function openInProcess(settings: Settings, providers: readonly Provider[], env: NodeJS.ProcessEnv = process.env): Promise<InProcess> {
  const log = stderrLogger(env.LOG_LEVEL);
  // Redis or cache trouble degrades to calling the provider, as in the server: say so once in a while.
  let lastStoreWarning = 0;
  const gates = await openGateResources(settings, (error) => {
    if (Date.now() - lastStoreWarning < 10_000) return;
    lastStoreWarning = Date.now();
    log.warn({ err: error }, 'cache or rate-limit store failing; calling providers without it');
  });
  const modules = mountModules(settings, providers, { gates });
  const { credentials, notes } = credentialsFor(
    modules.map((module) => module.provider),
    env,
  );
  let closed = false;
  return {
    settings,
    modules,
    gates,
    credentials,
    notes,
    log,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(modules.map((module) => module.client.close()));
      await gates.close();
    },
  };
}
