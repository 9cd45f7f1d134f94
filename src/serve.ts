// Entry point: settings from the environment (and .env), the app, the port, graceful shutdown.
import 'dotenv/config';
import cluster from 'node:cluster';
import { checkedSettings } from './checked-settings.js';
import type { Settings } from './core/settings.js';

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
