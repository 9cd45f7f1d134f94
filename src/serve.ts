// Entry point: settings from the environment (and .env), the app, the port, graceful shutdown.
import 'dotenv/config';
import cluster from 'node:cluster';
import { getHeapStatistics } from 'node:v8';
import type { Settings } from './core/settings.js';

/**
 * The in-memory cache must fit the heap (npm start and the container cap it at HEAP_MB, 256 by
 * default, which keeps the process's memory bounded): refused at start, not by a crash under load.
 */
export function heapProblem(settings: Settings, heapLimitBytes = getHeapStatistics().heap_size_limit): string | undefined {
  if (!settings.CACHE || settings.REDIS_URL !== undefined) return undefined;
  // CACHE_MAX_BYTES already counts what is parsed from each answer; the rest of the relay needs about 96 MiB.
  const needed = settings.CACHE_MAX_BYTES + 96 * 1024 ** 2;
  if (needed <= heapLimitBytes) return undefined;
  const mib = (bytes: number) => Math.ceil(bytes / 1024 ** 2);
  return `CACHE_MAX_BYTES=${settings.CACHE_MAX_BYTES} does not fit the heap limit of ${mib(heapLimitBytes)} MiB: set HEAP_MB to at least ${mib(needed)} (or node's --max-old-space-size), lower CACHE_MAX_BYTES, or use REDIS_URL`;
}

/** Every setting checked (the heap's room for the cache too): the settings, or what is wrong with them. */
export async function checkedSettings(env: NodeJS.ProcessEnv): Promise<{ settings: Settings } | { problem: string }> {
  const { SettingsError, loadSettings } = await import('./core/settings.js');
  const { PROVIDERS } = await import('./providers/registry.js');
  try {
    const settings = loadSettings(env, PROVIDERS);
    const problem = heapProblem(settings);
    return problem === undefined ? { settings } : { problem };
  } catch (error) {
    if (error instanceof SettingsError) return { problem: error.message };
    throw error;
  }
}

// Read from the text, before the settings are: with RELAY_THREAD the relay's thread checks every
// setting itself (bridge/front.ts), and this thread, which only owns the port, never loads them.
const OFF = ['0', 'false', 'no', 'off'];
const threadWanted = (env: NodeJS.ProcessEnv): boolean => !OFF.includes(env.RELAY_THREAD?.trim().toLowerCase() ?? '');
const mayWantWorkers = (env: NodeJS.ProcessEnv): boolean => !['', '1'].includes(env.WORKERS?.trim() ?? '');

async function settingsOrExit(env: NodeJS.ProcessEnv): Promise<Settings> {
  const checked = await checkedSettings(env);
  if ('settings' in checked) return checked.settings;
  console.error(checked.problem);
  process.exit(1);
}

export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (cluster.isPrimary && mayWantWorkers(env)) {
    const settings = await settingsOrExit(env);
    if (settings.WORKERS > 1) {
      const { runPrimary } = await import('./cluster.js');
      runPrimary(settings);
      return;
    }
  }
  if (threadWanted(env)) {
    const { runFront } = await import('./bridge/front.js');
    await runFront();
    return;
  }
  const settings = await settingsOrExit(env);
  const { buildApp } = await import('./app.js');
  const app = await buildApp({ settings });
  await app.listen({ port: settings.PORT, host: settings.HOST });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app.relay.shuttingDown = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      app.log.warn('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, settings.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
