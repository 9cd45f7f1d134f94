// Entry point: settings from the environment (and .env), the app, the port, graceful shutdown.
import 'dotenv/config';
import cluster from 'node:cluster';
import { buildApp } from './app.js';
import { runPrimary } from './cluster.js';
import { SettingsError, loadSettings } from './core/settings.js';
import { PROVIDERS } from './providers/registry.js';

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


