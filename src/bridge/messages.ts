// What the main thread (front.ts) and the relay's thread (relay-thread.ts) say to each other.
// Per client connection: its bytes both ways, its ends, and credit so neither side piles bytes up.
import type { Settings } from '../core/settings.js';

/** What the front needs of the settings, which the relay's thread reads and checks. */
export type FrontSettings = Pick<Settings, 'PORT' | 'HOST' | 'REQUEST_DEADLINE_MS' | 'SHUTDOWN_TIMEOUT_MS' | 'LOG_LEVEL' | 'LOG_FORMAT'>;

/** Where a client connection comes from and arrives at, as the relay's HTTP server reads them off a socket. */
export interface ConnectionAddress {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  remoteFamily?: string | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

export type ToRelay =
  /** A new connection, with the bytes the front already read from it. */
  | ({ t: 'open'; id: number; chunk: Uint8Array } & ConnectionAddress)
  | { t: 'data'; id: number; chunk: Uint8Array }
  /** The client sent its last byte (half close). */
  | { t: 'end'; id: number }
  /** The client's socket is closed: nothing more can be read or written. */
  | { t: 'gone'; id: number }
  /** That many written bytes have reached the client's socket. */
  | { t: 'ack'; id: number; bytes: number }
  /** Shut down: finish the requests in flight, then stop. */
  | { t: 'drain' };

export type ToFront =
  | { t: 'ready'; settings: FrontSettings }
  /** The relay's thread is alive: its event loop ran this beat. */
  | { t: 'beat' }
  | { t: 'data'; id: number; chunk: Uint8Array }
  | { t: 'end'; id: number }
  | { t: 'destroy'; id: number }
  /** Stop (or go on) reading the client: the relay's side has enough (or room again). */
  | { t: 'pause'; id: number }
  | { t: 'resume'; id: number }
  /** Drained and closed: the process may exit. */
  | { t: 'stopped' }
  /** The relay could not start (settings, Redis...): the message for the operator. */
  | { t: 'fatal'; message: string };

/** The front says how many bytes reached a client once they add up to this (fewer messages per small answer). */
export const ACK_EVERY_BYTES = 32 * 1024;

/** How often the relay's thread says it is alive. */
export const BEAT_MS = 1000;

/** A copy of exactly these bytes in a buffer of their own, to transfer (a Buffer is often a slice of a larger pool). */
export function ownBytes(...chunks: Uint8Array[]): Uint8Array {
  const copy = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    copy.set(chunk, at);
    at += chunk.byteLength;
  }
  return copy;
}
