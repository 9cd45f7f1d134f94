// WORKERS=2: two server processes on one port, stopped together by one SIGTERM to the primary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadSettings } from '../src/core/settings.js';
import { PROVIDERS } from '../src/providers/registry.js';
import { freePort } from './helpers/ports.js';

test('WORKERS accepts a count or auto', () => {
  assert.equal(loadSettings({}, PROVIDERS).WORKERS, 1);
  assert.equal(loadSettings({ WORKERS: '3' }, PROVIDERS).WORKERS, 3);
  assert.ok(loadSettings({ WORKERS: 'auto' }, PROVIDERS).WORKERS >= 1);
  assert.throws(() => loadSettings({ WORKERS: 'many' }, PROVIDERS), /WORKERS accepts auto/);
});

test('WORKERS=2 serves one port from two processes, and SIGTERM stops them all', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, WORKERS: '2', PORT: String(port), HOST: '127.0.0.1', PROVIDERS: 'cybercrime-tracker', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const listening = () => output.split('\n').filter((line) => line.includes('Server listening'));
    for (let tries = 0; tries < 300 && listening().length < 2; tries += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    const pids = new Set(listening().map((line) => (JSON.parse(line) as { pid: number }).pid));
    assert.equal(pids.size, 2, output);
    assert.equal(pids.has(child.pid!), false, 'the primary itself does not serve');

    const answer = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.deepEqual(await answer.json(), { status: 'ok' });

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    const stopped = output.split('\n').filter((line) => line.includes('shutting down'));
    assert.equal(stopped.length, 2, 'each worker drained');
  } finally {
    child.kill('SIGKILL');
  }
});
