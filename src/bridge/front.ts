// RELAY_THREAD=on (the default): the main thread owns the port and nothing else. It answers
// liveness probes itself and hands every other connection, byte for byte, to the relay running in
// a worker thread (relay-thread.ts), so that no upstream answer being parsed, no CTIM being built
// and no large answer being written can keep /healthz waiting (docs/limits.md). /healthz still
// says whether the relay is alive: it fails once the relay's thread has not beaten for
// STALE_AFTER_MS, and the thread is started again if it ever exits.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { answerClientError, rawJsonAnswer } from '../core/client-error.js';
import { loggerOptions } from '../core/log-options.js';
import { requestIdFor } from '../core/request-id.js';
import { serverTimeouts } from '../core/timeouts.js';
import { firstRequestKind } from './first-line.js';
import { ACK_EVERY_BYTES, ownBytes, type FrontSettings, type ToFront, type ToRelay } from './messages.js';

/** /healthz fails when the relay's thread has been silent this long (its loop is stuck). */
export const STALE_AFTER_MS = 10_000;
/** More exits than this within a minute: the relay cannot run here; stop instead of spinning. */
const RESTARTS_PER_MINUTE = 3;

const unavailable = (message: string): string => JSON.stringify({ errors: [{ type: 'fatal', code: 'service unavailable', message }] });

/** What /healthz answers, from when the relay's thread last beat (undefined: not running). */
export function liveness(lastBeat: number | undefined, now: number): { status: number; body: string } {
  if (lastBeat !== undefined && now - lastBeat <= STALE_AFTER_MS) return { status: 200, body: JSON.stringify({ status: 'ok' }) };
  const message = lastBeat === undefined ? 'The relay is starting.' : `The relay has not answered for ${Math.round((now - lastBeat) / 1000)} s.`;
  return { status: 503, body: unavailable(message) };
}

function newThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./relay-thread.js', import.meta.url));
  // From the sources (tests, `tsx src/server.ts`): a thread does not get tsx's loader by itself.
  const tsx = import.meta.resolve('tsx/esm/api');
  const thread = new URL('./relay-thread.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(thread)}); })`, { eval: true });
}

/** Starts the relay's thread, which reads the settings, then listens on its PORT. */
export async function runFront(): Promise<void> {
  // Until the thread has read LOG_LEVEL and LOG_FORMAT, its failures go to stderr.
  let log: Logger | undefined = undefined;
  const sockets = new Map<number, Socket>();
  // Bytes written to a client since its last acknowledgement to the relay's thread.
  const unacknowledged = new Map<number, number>();
  let nextId = 1;
  let worker: Worker | undefined;
  let ready = false;
  let lastBeat: number | undefined;
  let stopping = false;
  let recentExits: number[] = [];

  const send = (message: ToRelay, transfer?: ArrayBuffer[]): void => {
    if (worker !== undefined && ready) worker.postMessage(message, transfer);
  };

  const fromRelay = (message: ToFront): void => {
    if (message.t === 'beat') {
      lastBeat = Date.now();
      return;
    }
    if (message.t === 'data') {
      const socket = sockets.get(message.id);
      if (socket === undefined || socket.destroyed) return;
      const { id } = message;
      const bytes = message.chunk.byteLength;
      socket.write(Buffer.from(message.chunk.buffer, message.chunk.byteOffset, bytes), () => {
        const written = (unacknowledged.get(id) ?? 0) + bytes;
        if (written < ACK_EVERY_BYTES) {
          if (sockets.has(id)) unacknowledged.set(id, written);
          return;
        }
        unacknowledged.delete(id);
        send({ t: 'ack', id, bytes: written });
      });
      return;
    }
    if (message.t === 'end') sockets.get(message.id)?.end();
    else if (message.t === 'destroy') sockets.get(message.id)?.destroy();
    else if (message.t === 'pause') sockets.get(message.id)?.pause();
    else if (message.t === 'resume') sockets.get(message.id)?.resume();
  };

  // Resolves once the thread is ready; rejects with the relay's own message when it cannot start.
  const startThread = (): Promise<FrontSettings> =>
    new Promise((resolve, reject) => {
      const thread = newThread();
      worker = thread;
      thread.on('message', (message: ToFront) => {
        if (message.t === 'ready') {
          ready = true;
          lastBeat = Date.now();
          resolve(message.settings);
        } else if (message.t === 'fatal') {
          reject(new Error(message.message));
        } else if (message.t === 'stopped') {
          process.exit(0);
        } else {
          fromRelay(message);
        }
      });
      thread.on('error', (error) => {
        if (log === undefined) console.error(error);
        else log.error({ err: error }, 'the relay thread failed');
      });
      thread.on('exit', (code) => {
        const wasReady = ready;
        ready = false;
        lastBeat = undefined;
        worker = undefined;
        // Its connections cannot be answered any more.
        for (const socket of sockets.values()) socket.destroy();
        sockets.clear();
        unacknowledged.clear();
        if (stopping) process.exit(code === 0 ? 0 : 1);
        if (!wasReady) {
          reject(new Error(`the relay thread exited while starting (code ${code})`));
          return;
        }
        const now = Date.now();
        recentExits = [...recentExits.filter((time) => now - time < 60_000), now];
        log?.error({ code }, 'the relay thread exited; starting it again');
        if (recentExits.length > RESTARTS_PER_MINUTE) {
          log?.fatal('the relay thread keeps exiting; stopping');
          process.exit(1);
        }
        startThread().catch((error: unknown) => {
          log?.fatal({ err: error }, 'the relay thread could not start again');
          process.exit(1);
        });
      });
    });

  // The thread's first `ready` brings the settings; it is started again with the same environment.
  const settings = await startThread().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
  log = pino(loggerOptions(settings) as object);
  const { headersTimeout } = serverTimeouts(settings);

  // Probes: parsed by Node here, answered from the thread's last beat, then the connection closes.
  const probes = createHttpServer({ maxHeaderSize: 32 * 1024 }, (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0]?.replace(/\/+$/, '');
    if (path !== '/healthz' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      // Only a pipelined request can get here: a probe's connection serves the probe.
      request.socket.destroy();
      return;
    }
    const { status, body } = liveness(ready ? lastBeat : undefined, Date.now());
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-request-id': requestIdFor(request),
      connection: 'close',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  probes.on('clientError', answerClientError);

  const handOver = (socket: Socket, head: Buffer): void => {
    if (worker === undefined || !ready) {
      const message = stopping ? 'The relay is shutting down.' : 'The relay is starting; try again shortly.';
      socket.end(rawJsonAnswer(503, unavailable(message), { 'Retry-After': '1' }));
      return;
    }
    const id = nextId++;
    sockets.set(id, socket);
    const chunk = ownBytes(head);
    send({ t: 'open', id, chunk, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, remoteFamily: socket.remoteFamily, localAddress: socket.localAddress, localPort: socket.localPort }, [chunk.buffer as ArrayBuffer]);
    socket.on('data', (data: Buffer) => {
      const bytes = ownBytes(data);
      send({ t: 'data', id, chunk: bytes }, [bytes.buffer as ArrayBuffer]);
    });
    socket.on('end', () => send({ t: 'end', id }));
    socket.on('close', () => {
      unacknowledged.delete(id);
      if (sockets.delete(id)) send({ t: 'gone', id });
    });
  };

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    // A connection that never says what it wants, or a probe that does not finish, is closed like
    // the relay closes slow headers.
    const timer = setTimeout(() => socket.destroy(), headersTimeout);
    socket.once('close', () => clearTimeout(timer));
    const decide = (data: Buffer): void => {
      head = head.length === 0 ? data : Buffer.concat([head, data]);
      const kind = firstRequestKind(head);
      if (kind === 'more') return;
      socket.off('data', decide);
      socket.off('end', ended);
      if (kind === 'relay') {
        clearTimeout(timer);
        handOver(socket, head);
        return;
      }
      socket.pause();
      socket.unshift(head);
      probes.emit('connection', socket);
      socket.resume();
    };
    const ended = (): void => {
      clearTimeout(timer);
      socket.end();
    };
    socket.on('data', decide);
    socket.once('end', ended);
  });

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log?.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close();
    const force = setTimeout(() => {
      log?.warn('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, settings.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    if (worker === undefined || !ready) process.exit(0);
    send({ t: 'drain' });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.PORT, settings.HOST, () => resolve());
  });
  const address = server.address();
  if (address !== null && typeof address === 'object') {
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    log.info(`Server listening at http://${host}:${address.port}`);
  }
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
