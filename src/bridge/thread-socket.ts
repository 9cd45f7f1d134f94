// The relay thread's end of a client connection the main thread accepted (front.ts): a Duplex the
// relay's HTTP server takes as its socket, so Fastify, Node's parser and its slow-client limits
// work as on a real one. Bytes come and go as messages. Reading stops when the HTTP server does not
// keep up (the front pauses the client); writing waits while more than WRITE_WINDOW_BYTES have not
// yet reached the client's socket, so a slow reader holds back the answer stream as before.
import { Duplex } from 'node:stream';
import { ownBytes, type ConnectionAddress, type ToFront } from './messages.js';

/**
 * Bytes written but not yet handed to the client's socket, beyond which writes wait. Several times
 * ACK_EVERY_BYTES: the front acknowledges in batches of that, so a window this size always gets one.
 */
export const WRITE_WINDOW_BYTES = 128 * 1024;

type Post = (message: ToFront, transfer?: ArrayBuffer[]) => void;

export class ThreadSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  private unacknowledged = 0;
  private waitingWrite: ((error?: Error | null) => void) | undefined;
  private clientPaused = false;
  private clientGone = false;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    address: ConnectionAddress,
    private readonly post: Post,
  ) {
    super({ allowHalfOpen: true });
    this.remoteAddress = address.remoteAddress;
    this.remotePort = address.remotePort;
    this.remoteFamily = address.remoteFamily;
    this.localAddress = address.localAddress;
    this.localPort = address.localPort;
  }

  /** Bytes from the client. */
  received(chunk: Uint8Array): void {
    if (this.destroyed) return;
    this.touch();
    const more = this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (!more && !this.clientPaused) {
      this.clientPaused = true;
      this.post({ t: 'pause', id: this.id });
    }
  }

  /** The client half-closed. */
  ended(): void {
    if (!this.destroyed) this.push(null);
  }

  /** Written bytes reached the client's socket. */
  acknowledged(bytes: number): void {
    this.unacknowledged -= bytes;
    if (this.unacknowledged < WRITE_WINDOW_BYTES) this.release();
  }

  /** The client's socket closed: end here without telling the front. */
  gone(): void {
    this.clientGone = true;
    this.destroy();
  }

  override _read(): void {
    if (!this.clientPaused) return;
    this.clientPaused = false;
    this.post({ t: 'resume', id: this.id });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.send(chunks.map(({ chunk }) => chunk), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.post({ t: 'end', id: this.id });
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    if (!this.clientGone) this.post({ t: 'destroy', id: this.id });
    this.release();
    callback(error);
  }

  /** As net.Socket's: 'timeout' after that long without a byte either way (0: never). */
  setTimeout(ms: number, callback?: () => void): this {
    this.idleMs = ms;
    if (callback !== undefined) this.once('timeout', callback);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.touch();
    return this;
  }

  // The front's real socket has these set; the HTTP server may call them.
  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  address(): { address?: string | undefined; port?: number | undefined; family?: string | undefined } {
    return { address: this.localAddress, port: this.localPort, family: this.remoteFamily };
  }

  private send(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    this.touch();
    // A copy: the Buffers may be the app's own (a cached file) or slices of a pool; never detach them.
    const bytes = ownBytes(...chunks);
    this.post({ t: 'data', id: this.id, chunk: bytes }, [bytes.buffer as ArrayBuffer]);
    this.unacknowledged += bytes.byteLength;
    if (this.unacknowledged < WRITE_WINDOW_BYTES) callback();
    else this.waitingWrite = callback;
  }

  private release(): void {
    const waiting = this.waitingWrite;
    this.waitingWrite = undefined;
    waiting?.();
  }

  private touch(): void {
    if (this.idleMs <= 0 || this.destroyed) return;
    if (this.idleTimer === undefined) this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
    else this.idleTimer.refresh();
  }
}
