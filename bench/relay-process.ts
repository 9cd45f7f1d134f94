// The built relay (dist/server.js) in its own process, as it runs in production, for the
// benchmarks: the load generator and the fake providers then never share its event loop, and its
// RSS is its own. Sampled every 50 ms from /proc (or ps) while it runs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { heapFlags, relayEnv } from '../src/launch.js';
import { freePort } from '../test/helpers/ports.js';

export interface RelayProcess {
  url: string;
  /** The relay's process id (for its CPU time in /proc). */
  pid: number | undefined;
  /** `receivedAt`: performance.now() once the whole answer has arrived, before it is parsed here. */
  post(path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; json: any; receivedAt: number; retryAfter: string | undefined }>;
  /** Highest RSS seen so far, in bytes. */
  peakRss(): number;
  /** RSS now, in bytes (0 once it has exited). */
  rss(): number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function processRss(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match !== null) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: ask ps.
  }
  try {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024 || undefined;
  } catch {
    return undefined;
  }
}

/** `nodeArgs` go before the script (V8 flags, --cpu-prof for a profile of the relay). */
export async function startRelayProcess(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<RelayProcess> {
  if (!existsSync('dist/server.js')) throw new Error('dist/server.js is missing: npm run build');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // As `npm start` runs it: its heap flags (heapFlags) and its environment (relayEnv).
  const launch = heapFlags({ HEAP_MB: env.HEAP_MB ?? process.env.HEAP_MB });
  if ('problem' in launch) throw new Error(launch.problem);
  const child = spawn(process.execPath, [...launch.flags, ...nodeArgs, 'dist/server.js'], {
    env: relayEnv({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' }),
    // RELAY_LOG=file keeps the relay's log lines (LOG_LEVEL warn unless given) for a look afterwards.
    stdio: ['ignore', process.env.RELAY_LOG === undefined ? 'ignore' : openSync(process.env.RELAY_LOG, 'w'), 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // A benchmark that throws must not leave its relay running: it would share the cores with the
  // next benchmark and skew its figures.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  let peak = 0;
  const sampler = setInterval(() => {
    if (child.pid !== undefined) peak = Math.max(peak, processRss(child.pid) ?? 0);
  }, 50);
  const close = async (): Promise<void> => {
    clearInterval(sampler);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    }
  };
  let ready = false;
  for (let tries = 0; tries < 100 && !ready && child.exitCode === null; tries += 1) {
    await sleep(100);
    ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
  }
  if (!ready) {
    await close();
    throw new Error('the built relay did not become ready');
  }
  return {
    url,
    pid: child.pid,
    async post(path, body, headers) {
      const response = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) });
      const text = await response.text();
      const receivedAt = performance.now();
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        // Not JSON: kept as text.
      }
      return { status: response.status, json, receivedAt, retryAfter: response.headers.get('retry-after') ?? undefined };
    },
    peakRss: () => peak,
    rss: () => (child.pid === undefined ? 0 : (processRss(child.pid) ?? 0)),
    close,
  };
}
