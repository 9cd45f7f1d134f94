// Entry point: settings from the environment (and .env), the app, the port, graceful shutdown.
import 'dotenv/config';
import cluster from 'node:cluster';
import { buildApp } from './app.js';
import { runPrimary } from './cluster.js';
import { getHeapStatistics } from 'node:v8';
import { SettingsError, loadSettings, type Settings } from './core/settings.js';
import { PROVIDERS } from './providers/registry.js';

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

export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let settings;
  try {
    settings = loadSettings(env, PROVIDERS);
  } catch (error) {
    if (error instanceof SettingsError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const problem = heapProblem(settings);
  if (problem !== undefined) {
    console.error(problem);
    process.exit(1);
  }
  if (settings.WORKERS > 1 && cluster.isPrimary) {
    runPrimary(settings);
    return;
  }
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


