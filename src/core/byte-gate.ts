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
  /** Set once it went or gave up: the queues drop it lazily. */
  gone: boolean;
}

/** What one request's observables hold together (for fairness between requests). */
export interface RequestHold {
  held: number;
}

/** A binary min-heap of numbers or of waiters by seq: O(log n) in and out. */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly key: (item: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.key(items[parent]!) <= this.key(item)) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && this.key(items[right]!) < this.key(items[left]!) ? right : left;
        if (this.key(items[child]!) >= this.key(last)) break;
        items[index] = items[child]!;
        index = child;
      }
      items[index] = last;
    }
    return top;
  }
}

export class ByteGate {
  used = 0;
  private count = 0;
  // Waiters per request, oldest observable first: the request holding least goes first, so a
  // small request is not queued behind a huge one. Requests are few; waiters may be thousands,
  // and every release wakes the gate: nothing here scans all waiters.
  private readonly byOwner = new Map<RequestHold, MinHeap<Waiter>>();
  // Waiters by observable, to find the oldest observable's own waiter.
  private readonly bySeq = new Map<number, Waiter[]>();
  private readonly estimates = new Map<string, number>();
  /** Observables holding bytes now, by their sequence number (and a heap of them, cleaned lazily). */
  private readonly holders = new Set<number>();
  private readonly holderHeap = new MinHeap<number>((seq) => seq);
  private nextSeq = 0;

  constructor(readonly limit: number) {}

  get waiting(): number {
    return this.count;
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
    if (this.count === 0 && this.fits(bytes, seq, idle)) {
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
        gone: false,
        resolve: () => {
          stop();
          this.take(bytes, seq, owner);
          resolve();
        },
      };
      const stop = whenAborted(signal, () => {
        if (waiter.gone) return;
        this.remove(waiter);
        reject(onAbort());
        this.wake();
      });
      this.enqueue(waiter);
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

  /** The oldest observable holding bytes now. */
  private oldestHolder(): number | undefined {
    let top = this.holderHeap.peek();
    while (top !== undefined && !this.holders.has(top)) {
      this.holderHeap.pop();
      top = this.holderHeap.peek();
    }
    return top;
  }

  /**
   * Room for it, or nothing held, or it is the oldest observable under way and has no other call
   * in flight (so something always progresses, one call at a time).
   */
  private fits(bytes: number, seq: number, idle: () => boolean): boolean {
    if (this.used === 0 || (this.used + bytes <= this.limit && heapUsed() < THROTTLE_AT)) return true;
    if (!this.holders.has(seq) || !idle()) return false;
    return this.oldestHolder() === seq;
  }

  private take(bytes: number, seq: number, owner: RequestHold): void {
    this.used += bytes;
    owner.held += bytes;
    if (!this.holders.has(seq)) {
      this.holders.add(seq);
      this.holderHeap.push(seq);
    }
  }

  private enqueue(waiter: Waiter): void {
    this.count += 1;
    let queue = this.byOwner.get(waiter.owner);
    if (queue === undefined) {
      queue = new MinHeap<Waiter>((each) => each.seq);
      this.byOwner.set(waiter.owner, queue);
    }
    queue.push(waiter);
    const same = this.bySeq.get(waiter.seq);
    if (same === undefined) this.bySeq.set(waiter.seq, [waiter]);
    else same.push(waiter);
  }

  private remove(waiter: Waiter): void {
    waiter.gone = true;
    this.count -= 1;
    const same = this.bySeq.get(waiter.seq);
    if (same !== undefined) {
      const index = same.indexOf(waiter);
      if (index >= 0) same.splice(index, 1);
      if (same.length === 0) this.bySeq.delete(waiter.seq);
    }
  }

  /** The next waiter of the request holding least (its oldest observable's), dropping those gone. */
  private best(): Waiter | undefined {
    let best: Waiter | undefined;
    for (const [owner, queue] of this.byOwner) {
      let top = queue.peek();
      while (top !== undefined && top.gone) {
        queue.pop();
        top = queue.peek();
      }
      if (top === undefined) {
        this.byOwner.delete(owner);
        continue;
      }
      if (best === undefined || owner.held < best.owner.held || (owner.held === best.owner.held && top.seq < best.seq)) best = top;
    }
    return best;
  }

  private wake(): void {
    while (this.count > 0) {
      let next = this.best();
      if (next === undefined) return;
      if (!this.fits(next.bytes, next.seq, next.idle)) {
        // The oldest observable under way may be waiting behind it: it always may go.
        const oldest = this.oldestHolder();
        const own = oldest === undefined ? undefined : this.bySeq.get(oldest)?.[0];
        if (own === undefined || !this.fits(own.bytes, own.seq, own.idle)) return;
        next = own;
      }
      this.remove(next);
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
