// The relay as `npm start` runs it (RELAY_THREAD on): the main thread owns the port and answers
// /healthz, the relay's own thread answers everything else through it (src/bridge/).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from './helpers/ports.js';

interface Started {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
}

async function startServer(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, PROVIDERS: 'cybercrime-tracker', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Up to 30 s: tsx compiles the whole relay on start, slowly on a CI machine busy with the other tests.
  for (let tries = 0; tries < 300 && !output.includes('Server listening') && child.exitCode === null; tries += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(output.includes('Server listening'), `the relay did not start: ${output.slice(-500)}`);
  return { url: `http://127.0.0.1:${port}`, port, child, output: () => output };
}

/** What comes back on a raw connection after sending `text` (and, when given, `later` after a pause). */
function raw(port: number, text: string, later?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      if (later !== undefined) setTimeout(() => socket.write(later), 300);
    });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(20_000, () => socket.destroy());
  });
}

const observables = (count: number) => Array.from({ length: count }, (_, n) => ({ type: 'ip', value: `198.51.${Math.floor(n / 250)}.${n % 250}` }));

describe('the main thread in front of the relay thread', { timeout: 120_000 }, () => {
  let relay: Started;
  before(async () => {
    relay = await startServer({ REQUEST_DEADLINE_MS: '2000' });
  });
  after(async () => {
    relay.child.kill('SIGTERM');
    const [code] = (await once(relay.child, 'exit')) as [number | null];
    assert.equal(code, 0, relay.output().slice(-500));
  });

  test('/healthz is answered in the contract shape, names the request and closes the connection', async () => {
    const answer = await fetch(`${relay.url}/healthz`, { headers: { 'x-request-id': 'probe-1' } });
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { status: 'ok' });
    assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(answer.headers.get('x-request-id'), 'probe-1');
    assert.equal(answer.headers.get('connection'), 'close');
    const head = await raw(relay.port, 'HEAD /healthz/ HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(head.endsWith('\r\n\r\n'), 'HEAD: no body');
    // A probe whose bytes come slowly is still one.
    assert.match(await raw(relay.port, 'GET /heal', 'thz HTTP/1.1\r\nHost: a\r\n\r\n'), /^HTTP\/1\.1 200 OK[\s\S]*\{"status":"ok"\}$/);
  });

  test('every other request reaches the relay, with the client address it came from', async () => {
    const ready = await fetch(`${relay.url}/readyz`);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    assert.ok(ready.headers.get('x-request-id'));
    const missing = await fetch(`${relay.url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as any).errors[0].code, 'not found');
    const localPort = await new Promise<number>((resolve, reject) => {
      const sent = request(`${relay.url}/refer/observables`, { method: 'POST', agent: false, headers: { 'x-request-id': 'where-from' } }, (response) => {
        response.resume();
        response.on('end', () => resolve(sent.socket?.localPort ?? 0));
      });
      sent.on('error', reject);
      sent.end(JSON.stringify([{ type: 'ip', value: '1.2.3.4' }]));
    });
    for (let tries = 0; tries < 50 && !relay.output().includes('"where-from"'); tries += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    const line = relay.output().split('\n').find((text) => text.includes('"reqId":"where-from"') && text.includes('incoming request'));
    assert.ok(line, relay.output().slice(-1000));
    const logged = JSON.parse(line).req;
    assert.equal(logged.remoteAddress, '127.0.0.1');
    assert.equal(logged.remotePort, localPort);
  });

  test('a large answer to a slow reader arrives whole, and keep-alive requests share a connection', async () => {
    const body = JSON.stringify(observables(1000));
    const text = await new Promise<string>((resolve, reject) => {
      const sent = request(`${relay.url}/refer/observables`, { method: 'POST' }, (response) => {
        response.pause();
        const chunks: Buffer[] = [];
        setTimeout(() => {
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          response.resume();
        }, 500);
      });
      sent.on('error', reject);
      sent.end(body);
    });
    assert.ok(text.length > 128 * 1024, `${text.length} bytes: more than the write window`);
    const links = (JSON.parse(text) as { data: { url: string }[] }).data;
    assert.equal(links.length, 1000);
    assert.ok(links.every((link, index) => link.url.endsWith(observables(1000)[index]!.value)));
    // Small answers on one keep-alive connection, far more bytes than the write window in all:
    // acknowledged in batches, they never stall.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let index = 0; index < 600; index += 1) {
      const answer = await new Promise<string>((resolve, reject) => {
        const sent = request(`${relay.url}/readyz`, { agent }, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve(text));
        });
        sent.on('error', reject);
        sent.end();
      });
      assert.equal(answer, '{"status":"ready"}');
    }
    agent.destroy();
    const both = await raw(relay.port, 'GET /readyz HTTP/1.1\r\nHost: a\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.equal(both.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
  });

  test('slow clients get the relay limits: headers that never end, a body that never comes', async () => {
    for (const text of ['POST /refer/observables HTTP/1.1\r\nHost: a\r\n', 'POST /refer/observables HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n[{"type"']) {
      const answer = await raw(relay.port, text);
      assert.match(answer, /^HTTP\/1\.1 408 /, JSON.stringify(answer));
      assert.match(answer, /"code":"invalid argument"/);
    }
    const whole = await raw(relay.port, 'POST /refer/observables HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 2\r\n\r\n[]');
    assert.match(whole, /^HTTP\/1\.1 200 [\s\S]*\{"data":\[\]\}$/);
  });
});

test('RELAY_THREAD=off: one thread, as before', { timeout: 60_000 }, async () => {
  const relay = await startServer({ RELAY_THREAD: 'off' });
  try {
    assert.deepEqual(await (await fetch(`${relay.url}/healthz`)).json(), { status: 'ok' });
    const links = ((await (await fetch(`${relay.url}/refer/observables`, { method: 'POST', body: JSON.stringify([{ type: 'ip', value: '1.2.3.4' }]) })).json()) as any).data;
    assert.equal(links.length, 1);
  } finally {
    relay.child.kill('SIGTERM');
    const [code] = (await once(relay.child, 'exit')) as [number | null];
    assert.equal(code, 0);
  }
});

test('a bad RELAY_THREAD is refused like any other setting', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, RELAY_THREAD: 'sometimes' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 1);
  assert.match(errors, /RELAY_THREAD/);
});
