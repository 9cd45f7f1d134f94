// A fake provider: an HTTP server on 127.0.0.1 that records every request and answers with a
// handler the test gives (usually a fixture file the project owns).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';

export interface RecordedRequest {
  method: string;
  /** Raw path and query exactly as received (not decoded, not normalised). */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or a Buffer as is. */
  body?: unknown;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
  /**
   * Hostile behaviours: `reset` destroys the connection, `hang` never answers, `drip` sends the
   * body one byte every `dripMs` (default 200), `truncate` promises more bytes than it sends.
   */
  action?: 'reset' | 'hang' | 'drip' | 'truncate';
  dripMs?: number;
}

export type FakeHandler = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeUpstream {
  url: string;
  requests: RecordedRequest[];
  setHandler(handler: FakeHandler): void;
  close(): Promise<void>;
}

// Handlers answer with the same fixture objects again and again (the benchmark's fakes answer
// thousands of calls a second): each is serialised to bytes once.
const serialisedBodies = new WeakMap<object, Buffer>();

function serialised(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  if (body === null || typeof body !== 'object') return Buffer.from(JSON.stringify(body ?? {}));
  let bytes = serialisedBodies.get(body);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(body));
    serialisedBodies.set(body, bytes);
  }
  return bytes;
}

function drip(response: ServerResponse, body: Buffer, everyMs: number): void {
  let index = 0;
  const timer = setInterval(() => {
    if (response.destroyed || index >= body.length) {
      clearInterval(timer);
      if (!response.destroyed) response.end();
      return;
    }
    response.write(body.subarray(index, index + 1));
    index += 1;
  }, everyMs);
  response.on('close', () => clearInterval(timer));
}

export async function startFakeUpstream(
  handler: FakeHandler = () => ({ status: 404, body: {} }),
  // undici drops a socket whose server hints less than 2 s of keep-alive, so the benchmark asks for
  // more: otherwise every call would open a new connection, which no real provider makes it do.
  options: { keepAliveTimeoutMs?: number } = {},
): Promise<FakeUpstream> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      Promise.resolve()
        .then(() => current(recorded))
        .then(async (reply) => {
          if (reply.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
          const body = serialised(reply.body);
          if (reply.action === 'reset') return void request.socket.destroy();
          if (reply.action === 'hang') return;
          if (reply.action === 'truncate') {
            response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': String(body.length + 100) });
            response.write(body);
            return void setTimeout(() => request.socket.destroy(), 50);
          }
          const length = reply.action === 'drip' ? {} : { 'content-length': String(body.length) };
          response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...length, ...reply.headers });
          if (reply.action === 'drip') return void drip(response, body, reply.dripMs ?? 200);
          response.end(body);
        })
        .catch(() => {
          response.writeHead(500);
          response.end('fake failed');
        });
    });
  });
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    setHandler(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fixture of a provider folder, parsed. `dir` is the provider folder's URL (import.meta.url of a file in it). */
export function fixture(base: string | URL, name: string): unknown {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}`, base), 'utf8')) as unknown;
}

export function fixtureText(base: string | URL, name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, base), 'utf8');
}
