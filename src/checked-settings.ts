// Every setting checked before the relay starts, for the one-thread server (serve.ts) and the
// relay's thread (bridge/relay-thread.ts). The settings and the registry are loaded only when
// asked for, so the main thread in front of the relay's thread never loads them.
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
