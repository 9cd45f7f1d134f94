// Upstream answers are handed to the code waiting for them (the provider's parsing and mapping)
// in short slices of the event loop, taking turns between relay requests, instead of all at once
// as their sockets become readable. Without this, a request of 1000 observables whose answers
// arrive together maps them in one stretch of hundreds of milliseconds: /healthz, and every small
// request behind it, wait that long. With it, after each slice the event loop reads sockets and
// serves whatever came in (a probe, a cached lookup) before the next slice, and each request's
// answers wait behind at most one answer of every other request, not behind all of them.
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

export class Turns {
  // Owners in the order of their next turn: the one served goes to the back.
  private readonly queues = new Map<object, Queue>();
  private scheduled = false;
  /** Slices run so far (for tests). */
  slices = 0;

  // The stretch of the event loop in which tasks ran at once: when it began (reset every turn).
  private inlineStartedAt = 0;
  private inlineOpen = false;
  private readonly closeInline = (): void => {
    this.inlineOpen = false;
  };

  /** `inline: false` queues every task (tests of the queue itself). */
  constructor(
    private readonly sliceMs = SLICE_MS,
    private readonly inline = true,
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
    for (const queue of this.queues.values()) count += queue.size;
    return count;
  }

  /**
   * Runs `task` in a later slice, after one task of each other owner queued before it. With
   * nothing waiting, and this stretch of the event loop still within a slice's time, it runs at
   * once: a small request on a quiet relay pays nothing for the turns. A `heavy` task (one known
   * to outlast a slice) never runs at once and has a slice to itself, so that two of them, or one
   * and a slice of others, never hold the same stretch of the event loop.
   */
  run(owner: object, task: () => void, heavy = false): void {
    if (!heavy && this.inline && this.queues.size === 0 && !this.scheduled && this.withinInlineSlice()) {
      runTask(task);
      return;
    }
    let queue = this.queues.get(owner);
    if (queue === undefined) {
      queue = new Queue();
      this.queues.set(owner, queue);
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

  private async runSlice(): Promise<void> {
    this.slices += 1;
    const started = performance.now();
    let ran = 0;
    for (;;) {
      const next = this.queues.entries().next();
      if (next.done === true) {
        this.scheduled = false;
        return;
      }
      const [owner, queue] = next.value;
      // A heavy task waits for the next slice rather than join this one.
      if (ran > 0 && queue.peek()!.heavy) break;
      const task = queue.shift()!;
      this.queues.delete(owner);
      if (queue.size > 0) this.queues.set(owner, queue);
      runTask(task.run);
      ran += 1;
      for (let hop = 0; hop < HOPS; hop += 1) await undefined;
      if (task.heavy || performance.now() - started >= this.sliceMs) break;
    }
    if (this.queues.size > 0) setImmediate(this.slice);
    else this.scheduled = false;
  }
}

/** The relay's one scheduler: every upstream client hands its answers over through it. */
export const turns = new Turns();
