// The upstream answers that observables still being looked up hold, bounded in bytes across
// every request. A provider keeps what it parsed from its answers until its observable is done
// (OTX holds the `general` answer through all its pulse searches), so 1000 observables started at
// once against answers of a megabyte each hold a gigabyte: here an observable's first call waits
// until the answers held leave room for it. An observable already under way never waits (it is
// finishing, and it would otherwise hold its bytes while waiting for more: a deadlock), and with
// nothing held the first call always goes, so there is always progress.
//
// What a call will bring is not known before it is made: the gate reserves what that kind of call
// (provider and call name) brought lately, rising at once to a larger answer and falling slowly,
// then counts what came. The first calls after start-up reserve INITIAL_ESTIMATE.
import { whenAborted, type AbortLike } from './abort-hub.js';
import type { RelayError } from './errors.js';
import { THROTTLE_AT, heapUsed } from './heap-pressure.js';

// Until a kind of call has been answered once: 512 such calls (UPSTREAM_CONCURRENCY's default)
// fill the default bound, so a first 500-observable request is not cut into waves; should the
// answers be huge, the transit bound (upstream.ts) drops what the gate did not expect.
const INITIAL_ESTIMATE = 16 * 1024;

interface Waiter {
  bytes: number;
  /** Which observable asks (lower is older): the oldest one under way may always go. */
  seq: number;
  /** Whether the observable has no call in flight: only then may the oldest pass a full gate. */
  idle: () => boolean;
  owner: RequestHold;
  resolve: () => void;
}

/** What one request's observables hold together (for fairness between requests). */
export interface RequestHold {
  held: number;
}

export class ByteGate {
  used = 0;
  private readonly waiters: Waiter[] = [];
  private readonly estimates = new Map<string, number>();
  /** Observables holding bytes now, by their sequence number. */
  private readonly holders = new Set<number>();
  private nextSeq = 0;

  constructor(readonly limit: number) {}

  get waiting(): number {
    return this.waiters.length;
  }

  newSeq(): number {
    this.nextSeq += 1;
    return this.nextSeq;
  }

  estimate(kind: string): number {
    return this.estimates.get(kind) ?? INITIAL_ESTIMATE;
  }

  learn(kind: string, bytes: number): void {
    const known = this.estimates.get(kind);
    // The first answer of a kind replaces the guess; then up at once, down slowly.
    this.estimates.set(kind, known === undefined || bytes >= known ? bytes : Math.max(1024, Math.round(0.9 * known + 0.1 * bytes)));
  }

  /** Resolves once `bytes` fit (at once, most of the time: then no promise is made); rejects when `signal` aborts first. */
  admit(bytes: number, seq: number, idle: () => boolean, owner: RequestHold, signal: AbortLike, onAbort: () => RelayError): Promise<void> | undefined {
    if (this.waiters.length === 0 && this.fits(bytes, seq, idle)) {
      this.take(bytes, seq, owner);
      return undefined;
    }
    if (signal.aborted) return Promise.reject(onAbort());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        seq,
        idle,
        owner,
        resolve: () => {
          stop();
          this.take(bytes, seq, owner);
          resolve();
        },
      };
      const stop = whenAborted(signal, () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(onAbort());
        this.wake();
      });
      this.waiters.push(waiter);
      this.wake();
    });
  }

  /** An answer larger than its reservation: counted, never waited for (it has arrived). */
  add(bytes: number, owner: RequestHold): void {
    this.used += bytes;
    owner.held += bytes;
  }

  release(bytes: number, owner: RequestHold): void {
    if (bytes !== 0) {
      this.used -= bytes;
      owner.held -= bytes;
    }
    this.wake();
  }

  /** The observable holds nothing any more. */
  leave(seq: number): void {
    this.holders.delete(seq);
    this.wake();
  }

  /**
   * Room for it, or nothing held, or it is the oldest observable under way and has no other call
   * in flight (so something always progresses, one call at a time).
   */
  private fits(bytes: number, seq: number, idle: () => boolean): boolean {
    if (this.used === 0 || (this.used + bytes <= this.limit && heapUsed() < THROTTLE_AT)) return true;
    if (!this.holders.has(seq) || !idle()) return false;
    for (const holder of this.holders) if (holder < seq) return false;
    return true;
  }

  private take(bytes: number, seq: number, owner: RequestHold): void {
    this.used += bytes;
    owner.held += bytes;
    this.holders.add(seq);
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      // The request holding least goes first (a small request is not queued behind a huge one),
      // then the oldest observable.
      let best = 0;
      for (let index = 1; index < this.waiters.length; index += 1) {
        const waiter = this.waiters[index]!;
        const current = this.waiters[best]!;
        if (waiter.owner.held < current.owner.held || (waiter.owner.held === current.owner.held && waiter.seq < current.seq)) best = index;
      }
      let next = this.waiters[best]!;
      if (!this.fits(next.bytes, next.seq, next.idle)) {
        // The oldest observable under way may be waiting behind it: it always may go.
        const oldest = this.waiters.reduce((a, b) => (a.seq <= b.seq ? a : b));
        if (!this.fits(oldest.bytes, oldest.seq, oldest.idle)) return;
        next = oldest;
        best = this.waiters.indexOf(oldest);
      }
      this.waiters.splice(best, 1);
      next.resolve();
    }
  }
}

/** One observable's share: what its answers hold, given back when it is done. */
export class ObservableHold {
  private held = 0;
  private inFlight = 0;
  private closed = false;
  private readonly idle = (): boolean => this.inFlight === 0;
  private readonly seq: number;

  constructor(
    private readonly gate: ByteGate,
    private readonly owner: RequestHold,
  ) {
    this.seq = gate.newSeq();
  }

  /** Before a call of `kind`: its estimate reserved, once there is room for it. */
  before(kind: string, signal: AbortLike, onAbort: () => RelayError): { reserved: number; wait: Promise<void> | undefined } {
    // Work left over once the observable was answered holds nothing (and is being cancelled).
    if (this.closed) return { reserved: 0, wait: undefined };
    const reserved = this.gate.estimate(kind);
    const wait = this.gate.admit(reserved, this.seq, this.idle, this.owner, signal, onAbort);
    if (wait === undefined) {
      this.held += reserved;
      this.inFlight += 1;
    } else {
      wait.then(
        () => {
          if (this.closed) return this.gate.release(reserved, this.owner);
          this.held += reserved;
          this.inFlight += 1;
        },
        () => undefined,
      );
    }
    return { reserved, wait };
  }

  /** After the call: what it brought replaces the estimate (a failed call brought nothing, and teaches nothing). */
  after(kind: string, reserved: number, bytes: number | undefined): void {
    if (bytes !== undefined) this.gate.learn(kind, bytes);
    // Its reservation went back with the rest when the observable was done.
    if (this.closed) return;
    this.inFlight -= 1;
    bytes ??= 0;
    const delta = bytes - reserved;
    this.held += delta;
    if (delta > 0) this.gate.add(delta, this.owner);
    else this.gate.release(-delta, this.owner);
  }

  done(): void {
    if (this.closed) return;
    this.closed = true;
    const held = this.held;
    this.held = 0;
    this.gate.release(held, this.owner);
    this.gate.leave(this.seq);
  }
}
