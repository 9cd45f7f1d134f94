// Answers written straight to a socket, without an HTTP server's help: to a request Node could
// not read, and the main thread's refusals (bridge/front.ts).
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** A whole HTTP/1.1 answer with a JSON body that closes its connection. */
export function rawJsonAnswer(status: number, body: string, headers: Record<string, string> = {}): string {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;
}

/** Requests Node could not parse (headers too large, malformed): the contract's shape, then close. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message = status === 431 ? 'The request headers are too large.' : 'The request could not be read.';
  const body = JSON.stringify({ errors: [{ type: 'fatal', code: 'invalid argument', message }] });
  socket.end(rawJsonAnswer(status, body));
}
