// The relay's own thread (RELAY_THREAD=on): the whole app, fed the connections the main thread
// accepts (front.ts). Its upstream calls, parsing, mapping and answers never hold up the loop
// that owns the port and answers /healthz.
import { parentPort } from 'node:worker_threads';
import { buildApp, type RelayApp } from '../app.js';
import { checkedSettings } from '../checked-settings.js';
import { reserveHeap } from '../core/heap-pressure.js';
import { BEAT_MS, type ToFront, type ToRelay } from './messages.js';
import { ThreadSocket } from './thread-socket.js';

const port = parentPort;
if (port === null) throw new Error('relay-thread.ts runs in a worker thread (see front.ts)');
const post = (message: ToFront, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);

/**
 * The main thread's share of the process's memory: its isolate (14 MiB at rest, 7-11 MiB of heap
 * used under the abuse benchmark) and the bytes it passes on. The relay's heap thresholds count
 * against the heap limit less this (heap-pressure.ts).
 */
const FRONT_HEAP_RESERVE_BYTES = 24 * 1024 ** 2;
reserveHeap(FRONT_HEAP_RESERVE_BYTES);

async function start(): Promise<RelayApp | undefined> {
  try {
    const checked = await checkedSettings(process.env);
    if ('problem' in checked) {
      post({ t: 'fatal', message: checked.problem });
      return undefined;
    }
    const { settings } = checked;
    const app = await buildApp({ settings });
    await app.ready();
    // Node's HTTP server starts its checks of slow clients (headers and request timeouts) when it
    // starts listening; this one never listens, its connections come from the front.
    app.server.emit('listening');
    const { PORT, HOST, REQUEST_DEADLINE_MS, SHUTDOWN_TIMEOUT_MS, LOG_LEVEL, LOG_FORMAT } = settings;
    post({ t: 'ready', settings: { PORT, HOST, REQUEST_DEADLINE_MS, SHUTDOWN_TIMEOUT_MS, LOG_LEVEL, LOG_FORMAT } });
    return app;
  } catch (error) {
    post({ t: 'fatal', message: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}

const app = await start();
if (app !== undefined) {
  const sockets = new Map<number, ThreadSocket>();
  let draining: (() => void) | undefined;

  const drain = async (): Promise<void> => {
    app.relay.shuttingDown = true;
    // Idle keep-alive connections close now; each busy one closes after its answer (app.ts).
    app.server.closeIdleConnections();
    if (sockets.size > 0) await new Promise<void>((resolve) => (draining = resolve));
    try {
      await app.close();
    } catch (error) {
      app.log.error({ err: error }, 'error while closing');
    }
    post({ t: 'stopped' });
  };

  port.on('message', (message: ToRelay) => {
    if (message.t === 'open') {
      const socket = new ThreadSocket(message.id, message, post);
      sockets.set(message.id, socket);
      socket.once('close', () => {
        sockets.delete(message.id);
        if (sockets.size === 0) draining?.();
      });
      app.server.emit('connection', socket);
      if (message.chunk.byteLength > 0) socket.received(message.chunk);
      return;
    }
    if (message.t === 'drain') {
      void drain();
      return;
    }
    const socket = sockets.get(message.id);
    if (socket === undefined) return;
    if (message.t === 'data') socket.received(message.chunk);
    else if (message.t === 'end') socket.ended();
    else if (message.t === 'ack') socket.acknowledged(message.bytes);
    else socket.gone();
  });

  // The front answers /healthz only while these keep coming (front.ts).
  setInterval(() => post({ t: 'beat' }), BEAT_MS).unref();
}
