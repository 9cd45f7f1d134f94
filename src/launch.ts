// `npm start`: checks HEAP_MB like every other setting (environment, then .env), then runs the
// relay in a node with that heap limit. Without this, HEAP_MB=abc ends in node's own flag error and
// HEAP_MB=16 in a V8 out-of-memory trace. `--check` only checks (the container then execs node
// itself, so that node stays PID 1 and gets SIGTERM directly).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv } from 'dotenv';
import { z } from 'zod/v4';
import { coreSettingsSchema } from './core/settings.js';

/** The node flags for a HEAP_MB value, or the settings message that refuses it. */
export function heapFlags(env: NodeJS.ProcessEnv): { flags: string[] } | { problem: string } {
  const text = env.HEAP_MB?.trim() === '' ? undefined : env.HEAP_MB;
  const parsed = z.object({ HEAP_MB: coreSettingsSchema.shape.HEAP_MB }).safeParse({ HEAP_MB: text });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]?.message ?? 'is not valid';
    return { problem: `Invalid settings:\n  HEAP_MB ${issue} (MiB of V8 heap; got ${JSON.stringify(text)})` };
  }
  // A small young generation for a relay whose objects die young: 4 MiB semi-spaces kept the peak
  // RSS 8-20 MiB lower than 8 MiB ones under the benchmarks, at the same latency (docs/limits.md).
  return { flags: [`--max-old-space-size=${parsed.data.HEAP_MB}`, '--max-semi-space-size=4'] };
}

/**
 * The environment of the relay's process. glibc keeps freed blocks below its mmap threshold in the
 * allocating thread's arena, and the relay's own thread (RELAY_THREAD) allocates 64 KiB socket
 * and body buffers by the thousand under load: from 32 KiB they are mapped and given back when
 * freed, which kept peak RSS 20-50 MiB lower in `npm run bench:abuse` (docs/limits.md). Other C
 * libraries ignore the variable; an operator's own value wins.
 */
export function relayEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MALLOC_MMAP_THRESHOLD_: '32768', ...env };
}

function main(args: string[]): void {
  loadDotenv({ quiet: true });
  const heap = heapFlags(process.env);
  if ('problem' in heap) {
    console.error(heap.problem);
    process.exit(1);
  }
  if (args.includes('--check')) process.exit(0);
  // server.js next to this file (server.ts when run from the sources with tsx, whose --import is in execArgv).
  const server = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './server.ts' : './server.js', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, ...heap.flags, server], { stdio: 'inherit', env: relayEnv(process.env) });
  // The relay drains on SIGTERM/SIGINT (serve.ts); this process only passes them on and waits.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15))));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
