// WORKERS > 1: this process becomes a small supervisor that forks that many server processes on
// the same port (node:cluster hands each new connection to a worker in turn). With REDIS_URL they
// share the cache and the rate limits; without it each worker keeps its own cache and spends its
// share of each provider's limit (see openGateResources).
import cluster from 'node:cluster';
import { pino } from 'pino';
import type { Settings } from './core/settings.js';

/** More exits than this per worker within a minute means workers cannot run: stop, do not spin. */
const RESTARTS_PER_WORKER_PER_MINUTE = 3;

export function runPrimary(settings: Pick<Settings, 'WORKERS' | 'SHUTDOWN_TIMEOUT_MS' | 'LOG_LEVEL'>): void {
  const log = pino({ level: settings.LOG_LEVEL });
  let stopping = false;
  let exitCode = 0;
  let recentExits: number[] = [];

  const running = () => Object.values(cluster.workers ?? {}).filter((worker): worker is NonNullable<typeof worker> => worker !== undefined && !worker.isDead());

  const stop = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    exitCode = Math.max(exitCode, code);
    log.info({ reason }, 'stopping workers');
    // Each worker drains its in-flight requests on SIGTERM (serve.ts), bounded by its own timer.
    for (const worker of running()) worker.process.kill('SIGTERM');
    const force = setTimeout(() => {
      log.warn('workers did not stop in time; exiting');
      process.exit(1);
    }, settings.SHUTDOWN_TIMEOUT_MS + 2000);
    force.unref();
    if (running().length === 0) process.exit(exitCode);
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0 && code !== null) exitCode = 1;
      if (running().length === 0) process.exit(exitCode);
      return;
    }
    const now = Date.now();
    recentExits = recentExits.filter((time) => now - time < 60_000);
    recentExits.push(now);
    log.error({ pid: worker.process.pid, code, signal }, 'worker exited');
    if (recentExits.length > settings.WORKERS * RESTARTS_PER_WORKER_PER_MINUTE) {
      stop('workers keep exiting', 1);
      return;
    }
    cluster.fork();
  });

  for (let index = 0; index < settings.WORKERS; index += 1) cluster.fork();
  log.info({ workers: settings.WORKERS }, 'started workers');
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGINT', () => stop('SIGINT', 0));
}
