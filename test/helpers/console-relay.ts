// The relay with every real provider module, each pointed at its fake (the shared scenarios'
// fixture-based fakes, which check keys like the real APIs), the console built and served: what
// the browser test and the console benchmark run against.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole, type ConsoleBuild } from '../../scripts/build-console.mjs';
import type { Env } from '../../src/core/settings.js';
import { startFakeUpstream, type FakeHandler, type FakeUpstream } from './fake-upstream.js';
import { startRelay, type RunningRelay } from './relay.js';
import { SCENARIOS } from './scenarios.js';
import { TEST_SECRET } from './tokens.js';

export interface ConsoleRelay {
  relay: RunningRelay;
  build: ConsoleBuild;
  fakes: Record<string, FakeUpstream>;
  /** The sign-in form's values: per provider id, its fields. */
  keys: Record<string, Record<string, string>>;
  logLines: string[];
  close(): Promise<void>;
}

export interface ConsoleRelayOptions {
  env?: Env;
  /** Per provider id, a wrapper around its fake's handler (to inject faults or delays). */
  wrap?: Record<string, (handler: FakeHandler) => FakeHandler>;
}

export async function startConsoleRelay(options: ConsoleRelayOptions = {}): Promise<ConsoleRelay> {
  const outDir = mkdtempSync(join(tmpdir(), 'ctr-console-'));
  const build = await buildConsole({ outDir });
  const fakes: Record<string, FakeUpstream> = {};
  const keys: Record<string, Record<string, string>> = {};
  let env: Env = { SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'info' };
  for (const scenario of SCENARIOS) {
    const handler = options.wrap?.[scenario.providerId]?.(scenario.handler) ?? scenario.handler;
    const fake = await startFakeUpstream(handler);
    fakes[scenario.providerId] = fake;
    env = { ...env, ...scenario.envFor(fake.url) };
    if (scenario.credentials !== null) keys[scenario.providerId] = scenario.credentials;
  }
  const logLines: string[] = [];
  const relay = await startRelay({ ...env, ...options.env }, { consoleDir: build.outDir, logLines });
  return {
    relay,
    build,
    fakes,
    keys,
    logLines,
    async close() {
      await relay.close();
      await Promise.all(Object.values(fakes).map((fake) => fake.close()));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}
