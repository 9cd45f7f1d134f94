// Upstream answers are handed to the code waiting for them (the provider's parsing and mapping)
// in short slices of the event loop, taking turns between relay requests, instead of all at once
// as their sockets become readable. Without this, a request of 1000 observables whose answers
// arrive together maps them in one stretch of hundreds of milliseconds: /healthz, and every small
// request behind it, wait that long. With it, after each slice the event loop reads sockets and
// serves whatever came in (a probe, a cached lookup) before the next slice. A request that has
// had little of the slices' time goes first (FIRST_MS below); the others take turns, so that each
// large request's answers wait behind at most one answer of every other one, not behind all.
//
// Nothing is dropped or reordered within one request; only when its answers are processed moves.
// The answers waiting here are still counted by the upstream bytes gate (byte-gate.ts), so the
// queue cannot grow past what the relay already allows in memory.

/** How long one slice runs before the event loop gets a turn (a task already started finishes). */
const SLICE_MS = 3;
// A task resolves a promise; what awaits it runs a few microtask hops later (p-limit, the gate,
// the budget wrapper, then the provider). Yielding this many hops after each task lets its
// continuation run inside the slice, so that the slice's clock sees the work it caused.
const HOPS = 12;

/** A task only settles a promise: nothing it throws belongs to the scheduler or to who queued it. */
function runTask(task: () => void): void {
  try {
    task();
  } catch {
    // See above.
  }
}

interface Task {
  run: () => void;
  /** Known to take longer than a slice (parsing a large answer): it gets a slice to itself. */
  heavy: boolean;
}

class Queue {
  private items: Task[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(task: Task): void {
    this.items.push(task);
  }

  peek(): Task | undefined {
    return this.items[this.head];
  }

  shift(): Task | undefined {
    const task = this.items[this.head];
    this.items[this.head] = undefined as unknown as Task;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return task;
  }
}

/**
 * An owner's tasks go before everyone else's until it has had this much of the slices' time: a
 * small request (a cached lookup, a few observables) overtakes the large ones in flight and is
 * done in one slice, instead of waiting a turn behind each of them at every step (the event loop
 * runs a slice once per turn, and a loaded one turns every few tens of milliseconds). Beyond it,
 * owners share the slices in turns. This is least-attained-service scheduling in two levels.
 */
const FIRST_MS = 5;
/** After this many slices without a task of the owners past FIRST_MS, the next slice starts with one. */
const MAX_SKIPPED_SLICES = 2;

export class Turns {
  // Owners in the order of their next turn: the one served goes to the back. New owners (less than
  // FIRST_MS served) wait in `first`, the others in `rest`.
  private readonly first = new Map<object, Queue>();
  private readonly rest = new Map<object, Queue>();
  private readonly served = new WeakMap<object, number>();
  private skipped = 0;
  private scheduled = false;
  /** Slices run so far (for tests). */
  slices = 0;

  // The stretch of the event loop in which tasks ran at once: when it began (reset every turn).
  private inlineStartedAt = 0;
  private inlineOpen = false;
  private readonly closeInline = (): void => {
    this.inlineOpen = false;
  };

  /** `inline: false` queues every task (tests of the queue itself); tests may set their own shares. */
  constructor(
    private readonly sliceMs = SLICE_MS,
    private readonly inline = true,
    private readonly firstMs = FIRST_MS,
  ) {}

  private withinInlineSlice(): boolean {
    const now = performance.now();
    if (!this.inlineOpen) {
      this.inlineOpen = true;
      this.inlineStartedAt = now;
      setImmediate(this.closeInline);
    }
    return now - this.inlineStartedAt < this.sliceMs;
  }

  /** Tasks waiting for their turn. */
  get waiting(): number {
    let count = 0;
    for (const queue of this.first.values()) count += queue.size;
    for (const queue of this.rest.values()) count += queue.size;
    return count;
  }

  /**
   * Runs `task` in a later slice, after one task of each other owner queued before it (owners that
   * have had less than FIRST_MS go first). With nothing waiting, and this stretch of the event loop
   * still within a slice's time, it runs at once: a small request on a quiet relay pays nothing
   * for the turns. A `heavy` task (one known to outlast a slice) never runs at once and has a slice
   * to itself, so that two of them, or one and a slice of others, never hold the same stretch of
   * the event loop.
   */
  run(owner: object, task: () => void, heavy = false): void {
    if (!heavy && this.inline && this.first.size === 0 && this.rest.size === 0 && !this.scheduled && this.withinInlineSlice()) {
      runTask(task);
      return;
    }
    // An owner's tasks stay in one queue, in order.
    let queue = this.first.get(owner) ?? this.rest.get(owner);
    if (queue === undefined) {
      queue = new Queue();
      ((this.served.get(owner) ?? 0) < this.firstMs ? this.first : this.rest).set(owner, queue);
    }
    queue.push({ run: task, heavy });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.slice);
    }
  }

  /** Resolves in a later slice, in `owner`'s turn: for work that should not follow on what just ran. */
  next(owner: object): Promise<void> {
    return new Promise<void>((resolve) => this.run(owner, resolve));
  }

  private readonly slice = (): void => {
    void this.runSlice();
  };

  /** The owners to take the next task from: `rest` when it has been skipped too often. */
  private nextLevel(): Map<object, Queue> | undefined {
    if (this.rest.size > 0 && (this.first.size === 0 || this.skipped >= MAX_SKIPPED_SLICES)) return this.rest;
    return this.first.size > 0 ? this.first : undefined;
  }

  private async runSlice(): Promise<void> {
    this.slices += 1;
    const started = performance.now();
    let ran = 0;
    let ranRest = false;
    for (;;) {
      const level = this.nextLevel();
      if (level === undefined) break;
      const [owner, queue] = level.entries().next().value as [object, Queue];
      // A heavy task waits for the next slice rather than join this one.
      if (ran > 0 && queue.peek()!.heavy) break;
      const task = queue.shift()!;
      // To the back of its level, before the task runs: what it causes is queued behind it.
      level.delete(owner);
      if (queue.size > 0) level.set(owner, queue);
      if (level === this.rest) {
        ranRest = true;
        this.skipped = 0;
      }
      const taskStarted = performance.now();
      runTask(task.run);
      ran += 1;
      for (let hop = 0; hop < HOPS; hop += 1) await undefined;
      const now = performance.now();
      const served = (this.served.get(owner) ?? 0) + (now - taskStarted);
      this.served.set(owner, served);
      // Past its first share, an owner's queue goes to the back of the others.
      const waiting = this.first.get(owner);
      if (served >= this.firstMs && waiting !== undefined) {
        this.first.delete(owner);
        this.rest.set(owner, waiting);
      }
      if (task.heavy || now - started >= this.sliceMs) break;
    }
    if (!ranRest && this.rest.size > 0) this.skipped += 1;
    if (this.first.size > 0 || this.rest.size > 0) setImmediate(this.slice);
    else this.scheduled = false;
  }
}

/** The relay's one scheduler: every upstream client hands its answers over through it. */
export const turns = new Turns();
