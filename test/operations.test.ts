// What an operator sees: the start-up line and its warning, probes and scrapes at debug, the
// request id echoed, DOCS=off, HEAP_MB checked like every other setting by `npm start`'s launcher.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.js';
import { heapFlags, relayEnv } from '../src/launch.js';
import { MAX_REQUEST_ID_LENGTH } from '../src/core/request-logs.js';
import { SettingsError, loadSettings } from '../src/core/settings.js';
import { redisLocation, startupReport } from '../src/core/startup.js';
import { PROVIDERS } from '../src/providers/registry.js';
import { startRelay } from './helpers/relay.js';
import { TEST_SECRET } from './helpers/tokens.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const records = (lines: readonly string[]): any[] => lines.map((line) => JSON.parse(line));

describe('the start-up line', () => {
  test('names the modules, the key sources, the cache and Redis mode; never a secret', async () => {
    const lines: string[] = [];
    const relay = await startRelay({ PROVIDERS: 'xforce,cybercrime-tracker', SECRET_KEY: TEST_SECRET, CACHE: 'on' }, { logLines: lines });
    try {
      const starting = records(lines).filter((record) => record.msg === 'relay starting');
      assert.equal(starting.length, 1);
      const line = starting[0];
      assert.equal(line.level, 30, 'at info');
      assert.deepEqual(line.modules, ['xforce', 'cybercrime-tracker']);
      assert.equal(line.auth.hs256, 'on');
      assert.equal(line.auth.rs256, 'on');
      assert.deepEqual(line.auth.jwksHosts, ['visibility.amp.cisco.com', 'visibility.eu.amp.cisco.com', 'visibility.apjc.amp.cisco.com']);
      assert.equal(line.auth.moduleBinding, 'provider claim or aud');
      assert.match(line.cache, /^memory, 10000 entries or 16 MiB, ttl 300 s$/);
      assert.equal(line.redis, 'off');
      assert.equal(line.workers, undefined);
      assert.ok(!lines.join('').includes(TEST_SECRET));
      assert.equal(records(lines).filter((record) => record.level === 40).length, 0, 'no warning');
    } finally {
      await relay.close();
    }
  });

  test('JWKS_URL, HS256 off, cache off; a single module takes any valid token', () => {
    const settings = loadSettings({ PROVIDERS: 'otx', JWKS_URL: 'https://keys.example.com/jwks', CACHE: 'off' }, PROVIDERS);
    const { fields, warnings } = startupReport(settings, [{ id: 'otx', needsCredentials: true }]);
    assert.deepEqual(fields.auth, {
      hs256: 'off (SECRET_KEY unset: tokens from ctr-relay jwt are refused)',
      rs256: 'on',
      jwksUrl: 'https://keys.example.com/jwks',
      moduleBinding: 'any valid token (single module)',
    });
    assert.equal(fields.cache, 'off');
    assert.deepEqual(warnings, []);
  });

  test('Redis by host and port only (no password); WORKERS>1 without Redis says each worker has its own cache and call sharing', () => {
    const withRedis = loadSettings({ REDIS_URL: 'redis://relay:s3cret-pass@redis.internal:6380/2', WORKERS: '4' }, PROVIDERS);
    const shared = startupReport(withRedis, [{ id: 'otx', needsCredentials: true }]).fields;
    assert.equal(shared.redis, 'redis://redis.internal:6380/2');
    assert.equal(shared.cache, 'redis, ttl 300 s');
    assert.equal(shared.rateLimits, 'on, shared in Redis');
    assert.equal(shared.workers, '4, sharing cache and rate limits in Redis');
    assert.ok(!JSON.stringify(shared).includes('s3cret-pass'));
    assert.equal(redisLocation('rediss://:pw@cache.example:6379'), 'rediss://cache.example:6379');

    const alone = startupReport(loadSettings({ WORKERS: '3' }, PROVIDERS), [{ id: 'otx', needsCredentials: true }]).fields;
    assert.match(String(alone.workers), /^3: without REDIS_URL each worker has its own cache and call sharing, and a 1\/3 share of each rate limit$/);
    assert.equal(alone.rateLimits, 'on, in this process');
  });

  test('warns when no token can ever be accepted, naming what to set', async () => {
    const lines: string[] = [];
    // JWKS_HOSTS="," is an empty list (an empty value would mean the default hosts).
    const relay = await startRelay({ PROVIDERS: 'xforce,cybercrime-tracker', JWKS_HOSTS: ',' }, { logLines: lines });
    try {
      const warnings = records(lines).filter((record) => record.level === 40);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0].msg, /^no token can ever be accepted: SECRET_KEY is unset and JWKS_HOSTS is empty without JWKS_URL, so xforce will refuse/);
      assert.match(warnings[0].msg, /set SECRET_KEY \(HS256, ctr-relay jwt\) or JWKS_URL\/JWKS_HOSTS \(RS256\)/);
      assert.equal(records(lines).find((record) => record.msg === 'relay starting')?.auth.rs256, 'off');
    } finally {
      await relay.close();
    }
    // Nothing to warn about when no mounted module reads a token.
    assert.deepEqual(startupReport(loadSettings({ PROVIDERS: 'cybercrime-tracker', JWKS_HOSTS: ',' }, PROVIDERS), [{ id: 'cybercrime-tracker', needsCredentials: false }]).warnings, []);
  });
});

describe('request logs and ids', () => {
  test('/healthz, /readyz and /metrics are logged at debug; other requests at info', async () => {
    const lines: string[] = [];
    const relay = await startRelay({ PROVIDERS: 'cybercrime-tracker' }, { logLines: lines });
    try {
      lines.length = 0;
      for (const path of ['/healthz', '/readyz', '/metrics', '/healthz/?probe=1', '/metrics?name[]=process_cpu_seconds_total']) assert.equal((await relay.get(path, { 'x-request-id': `probe-${path.length}` })).status, 200);
      const probes = records(lines);
      assert.ok(probes.length >= 10, `two lines per probe (got ${probes.length})`);
      for (const record of probes) assert.equal(record.level, 20, `${record.msg} at debug`);

      lines.length = 0;
      await relay.get('/', { 'x-request-id': 'root-1' });
      const root = records(lines).filter((record) => record.reqId === 'root-1');
      assert.deepEqual(root.map((record) => [record.msg, record.level]), [
        ['incoming request', 30],
        ['request completed', 30],
      ]);
    } finally {
      await relay.close();
    }
  });

  test('X-Request-Id is echoed on every answer; a long or unsafe one is replaced by a new id', async () => {
    const lines: string[] = [];
    const relay = await startRelay({ PROVIDERS: 'xforce,cybercrime-tracker', SECRET_KEY: TEST_SECRET }, { logLines: lines });
    try {
      const given = 'trace-4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7';
      for (const [method, path] of [['GET', '/healthz'], ['GET', '/nothing-here'], ['POST', '/xforce/observe/observables'], ['PUT', '/healthz']] as const) {
        const response = await fetch(`${relay.url}${path}`, { method, headers: { 'x-request-id': given, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '[]' }) });
        await response.arrayBuffer();
        assert.equal(response.headers.get('x-request-id'), given, `${method} ${path}`);
      }
      assert.ok(records(lines).some((record) => record.reqId === given), 'the log lines carry the same id');

      for (const bad of ['x'.repeat(MAX_REQUEST_ID_LENGTH + 1), 'has space', 'quote"d', 'line\tbreak', '<script>']) {
        const response = await fetch(`${relay.url}/healthz`, { headers: { 'x-request-id': bad } });
        await response.arrayBuffer();
        assert.match(response.headers.get('x-request-id') ?? '', UUID, JSON.stringify(bad));
      }
      const none = await fetch(`${relay.url}/healthz`);
      await none.arrayBuffer();
      assert.match(none.headers.get('x-request-id') ?? '', UUID);
      assert.equal(
        (await fetch(`${relay.url}/healthz`, { headers: { 'x-request-id': 'y'.repeat(MAX_REQUEST_ID_LENGTH) } })).headers.get('x-request-id'),
        'y'.repeat(MAX_REQUEST_ID_LENGTH),
      );
    } finally {
      await relay.close();
    }
  });
});

describe('DOCS', () => {
  test('DOCS=off answers 404 at /docs and /openapi.json; on by default', async () => {
    const off = await startRelay({ PROVIDERS: 'cybercrime-tracker', DOCS: 'off' });
    const on = await startRelay({ PROVIDERS: 'cybercrime-tracker' });
    try {
      for (const path of ['/docs', '/openapi.json']) {
        const answer = await off.get(path);
        assert.equal(answer.status, 404, path);
        assert.deepEqual(answer.json, { errors: [{ type: 'fatal', code: 'not found', message: `Nothing is served at ${path}.` }] });
        assert.equal((await fetch(`${on.url}${path}`)).status, 200, path);
      }
      assert.equal((await off.get('/healthz')).status, 200);
    } finally {
      await Promise.all([off.close(), on.close()]);
    }
    assert.throws(() => loadSettings({ DOCS: 'maybe' }, PROVIDERS), /DOCS accepts true\/false/);
  });
});

describe('HEAP_MB', () => {
  test('is validated like every other setting', () => {
    for (const value of ['abc', '16', '127', '1.5', '-1', '70000']) {
      assert.throws(() => loadSettings({ HEAP_MB: value }, PROVIDERS), (error: unknown) => error instanceof SettingsError && /HEAP_MB accepts a whole number from 128 to 65536/.test(error.message), value);
      const launch = heapFlags({ HEAP_MB: value });
      assert.ok('problem' in launch && /^Invalid settings:\n {2}HEAP_MB accepts a whole number from 128 to 65536 \(MiB of V8 heap; got /.test(launch.problem), value);
    }
    assert.equal(loadSettings({}, PROVIDERS).HEAP_MB, 256);
    assert.deepEqual(heapFlags({}), { flags: ['--max-old-space-size=256', '--max-semi-space-size=4'] });
    assert.deepEqual(heapFlags({ HEAP_MB: '512' }), { flags: ['--max-old-space-size=512', '--max-semi-space-size=4'] });
  });

  test("the relay's process maps large blocks (glibc), unless the operator says otherwise", () => {
    assert.equal(relayEnv({ PATH: '/bin' }).MALLOC_MMAP_THRESHOLD_, '32768');
    assert.equal(relayEnv({ PATH: '/bin' }).PATH, '/bin');
    assert.equal(relayEnv({ MALLOC_MMAP_THRESHOLD_: '131072' }).MALLOC_MMAP_THRESHOLD_, '131072');
  });

  const LAUNCH = fileURLToPath(new URL('../src/launch.ts', import.meta.url));
  const TSX = import.meta.resolve('tsx');
  const launch = (env: Record<string, string>, cwd: string) =>
    spawn(process.execPath, ['--import', TSX, LAUNCH], { cwd, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

  test("npm start's launcher refuses a bad HEAP_MB (environment or .env) with the settings message, not node's", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ctr-relay-launch-'));
    writeFileSync(join(directory, '.env'), 'HEAP_MB=16\n');
    for (const env of [{ HEAP_MB: 'abc' }, {}] as Record<string, string>[]) {
      const child = launch(env, directory);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const [code] = await once(child, 'exit');
      assert.equal(code, 1, stderr);
      assert.match(stderr, /^Invalid settings:\n {2}HEAP_MB accepts a whole number from 128 to 65536/);
      assert.doesNotMatch(stderr, /bad option|out of memory|FATAL/i);
    }
  });

  test('the launcher starts the relay with the heap limit and passes SIGTERM on (exit 0)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ctr-relay-launch-'));
    const child = launch({ HEAP_MB: '192', PORT: '0', HOST: '127.0.0.1', PROVIDERS: 'cybercrime-tracker', LOG_LEVEL: 'info' }, directory);
    let output = '';
    const address = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', () => reject(new Error(`exited early: ${output}`)));
    });
    const url = await address;
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, output);
  });
});

test('fastify.inject (light-my-request, which pulls in cookie@2 declaring node >=22) works on this Node', async () => {
  const app = await buildApp({ settings: loadSettings({ PROVIDERS: 'cybercrime-tracker', LOG_LEVEL: 'silent' }, PROVIDERS) });
  try {
    const response = await app.inject({ method: 'GET', url: '/healthz', cookies: { session: 'a b;c' } });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
  } finally {
    await app.close();
  }
});
