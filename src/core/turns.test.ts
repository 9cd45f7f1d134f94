import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Turns } from './turns.js';

/** Until `check()` holds, or 10 s (a loaded machine runs these slowly). */
async function eventually(check: () => boolean): Promise<void> {
  for (let tries = 0; tries < 1000 && !check(); tries += 1) await new Promise((resolve) => setTimeout(resolve, 10));
}

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Work that holds the event loop, as mapping a large answer does.
  }
};

test('tasks take turns between owners, in order within each owner', async () => {
  const turns = new Turns(1000, false);
  const ran: string[] = [];
  const a = {};
  const b = {};
  for (const name of ['a1', 'a2', 'a3']) turns.run(a, () => ran.push(name));
  turns.run(b, () => ran.push('b1'));
  await eventually(() => ran.length === 4);
  assert.deepEqual(ran, ['a1', 'b1', 'a2', 'a3']);
  assert.equal(turns.waiting, 0);
});

test('a slice ends after its time: the event loop gets a turn before the rest', async () => {
  const turns = new Turns(3, false);
  const owner = {};
  let done = 0;
  for (let index = 0; index < 20; index += 1) {
    turns.run(owner, () => {
      busy(2);
      done += 1;
    });
  }
  // Queued after all twenty tasks, it still runs before they are all done.
  const doneWhenTheLoopRan = await new Promise<number>((resolve) => setImmediate(() => resolve(done)));
  assert.ok(doneWhenTheLoopRan < 20, `the loop waited for all ${doneWhenTheLoopRan} tasks`);
  await eventually(() => done === 20);
  assert.equal(done, 20);
  assert.ok(turns.slices > 1);
});

test('what awaits a task runs inside its slice', async () => {
  const turns = new Turns(3, false);
  const owner = {};
  let continued = 0;
  for (let index = 0; index < 10; index += 1) {
    const answer = new Promise<void>((resolve) => turns.run(owner, resolve));
    // A few hops away, as a provider awaiting an upstream answer through the gate is.
    void answer
      .then(() => undefined)
      .then(() => undefined)
      .then(() => {
        busy(2);
        continued += 1;
      });
  }
  const continuedWhenTheLoopRan = await new Promise<number>((resolve) => setImmediate(() => resolve(continued)));
  assert.ok(continuedWhenTheLoopRan < 10, `${continuedWhenTheLoopRan} continuations ran before the loop did`);
  await eventually(() => continued === 10);
  assert.equal(continued, 10);
});

test('a task that throws does not stop the others', async () => {
  const turns = new Turns();
  const owner = {};
  let ran = false;
  turns.run(owner, () => {
    throw new Error('a bug in a task');
  });
  turns.run(owner, () => (ran = true));
  await eventually(() => ran);
  assert.equal(ran, true);
});

test('with nothing waiting a task runs at once, but only for a slice of the event loop', async () => {
  const turns = new Turns(3);
  const owner = {};
  let ran = 0;
  turns.run(owner, () => (ran += 1));
  assert.equal(ran, 1, 'at once');
  // A burst that holds the loop: once the stretch passed a slice, tasks are queued for later turns.
  for (let index = 0; index < 20; index += 1) {
    turns.run(owner, () => {
      busy(1);
      ran += 1;
    });
  }
  assert.ok(ran < 21, `${ran} ran at once`);
  assert.ok(ran > 1);
  await eventually(() => ran === 21);
  assert.equal(ran, 21);
});

test('a heavy task has a slice to itself and never runs at once', async () => {
  const turns = new Turns(1000, true);
  const ran: string[] = [];
  const slices: number[] = [];
  const a = {};
  const b = {};
  const record = (name: string) => () => {
    ran.push(name);
    slices.push(turns.slices);
  };
  turns.run(b, record('heavy'), true);
  // Nothing was waiting, yet it did not run at once.
  assert.deepEqual(ran, []);
  turns.run(a, record('a1'));
  turns.run(a, record('a2'));
  await eventually(() => ran.length === 3);
  // The heavy task came first and alone; the two light ones shared the next slice.
  assert.deepEqual(ran, ['heavy', 'a1', 'a2']);
  assert.notEqual(slices[0], slices[1]);
  assert.equal(slices[1], slices[2]);

  // Its turn come after a light task's in the same slice, it waits for the next slice.
  const queued = new Turns(1000, false);
  const order: string[] = [];
  const slicesOf: number[] = [];
  const note = (name: string) => () => {
    order.push(name);
    slicesOf.push(queued.slices);
  };
  queued.run(a, note('a3'));
  queued.run(a, note('a4'));
  queued.run(b, note('heavy2'), true);
  await eventually(() => order.length === 3);
  assert.deepEqual(order, ['a3', 'heavy2', 'a4']);
  assert.equal(new Set(slicesOf).size, 3);
});

/** Queues a task of `owner` that takes 6 ms: more than a first share of 5 ms. */
const outgrowingTask = (turns: Turns, owner: object, ran: string[], name: string): void =>
  turns.run(owner, () => {
    busy(6);
    ran.push(name);
  });

test('a new owner goes before owners that have had their first share of the slices', async () => {
  // Slices of 1 s so that each slice here runs everything waiting; a first share of 5 ms.
  const turns = new Turns(1000, false, 5);
  const ran: string[] = [];
  const large = {};
  const small = {};
  outgrowingTask(turns, large, ran, 'large1');
  await eventually(() => ran.length === 1);
  // `large` has had 6 ms: a small request queued after it still goes first.
  for (const name of ['large2', 'large3']) turns.run(large, () => ran.push(name));
  turns.run(small, () => ran.push('small1'));
  turns.run(small, () => ran.push('small2'));
  await eventually(() => ran.length === 5);
  assert.deepEqual(ran, ['large1', 'small1', 'small2', 'large2', 'large3']);
});

test('an owner leaves the first level once it has had its share, and the others still get turns', async () => {
  const turns = new Turns(1000, false, 5);
  const ran: string[] = [];
  const a = {};
  const b = {};
  // `a` outgrows its first share in its first task: its next one waits behind `b`'s.
  outgrowingTask(turns, a, ran, 'a1');
  turns.run(a, () => ran.push('a2'));
  turns.run(b, () => ran.push('b1'));
  await eventually(() => ran.length === 3);
  assert.deepEqual(ran, ['a1', 'b1', 'a2']);

  // New owners that keep coming cannot hold back an owner past its share for long: it gets a task
  // in at least every other slice (slices of 1 ms here, each new owner's task 2 ms).
  const short = new Turns(1, false, 5);
  const order: string[] = [];
  const old = {};
  short.run(old, () => busy(6));
  await eventually(() => short.waiting === 0);
  short.run(old, () => order.push('old'));
  for (let index = 0; index < 6; index += 1) {
    short.run({}, () => {
      busy(2);
      order.push(`new${index}`);
    });
  }
  await eventually(() => order.length === 7);
  assert.ok(order.indexOf('old') <= 2, `the old owner waited for ${order.indexOf('old')} new ones: ${order.join(' ')}`);
});
