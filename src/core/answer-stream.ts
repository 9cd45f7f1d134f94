// A large answer written as a stream of JSON slices, not one JSON.stringify: serialising 16 MiB
// at once holds the event loop for a quarter of a second or more (and /healthz with it). Each
// entity is serialised on its own; after a few milliseconds of work the generator lets the event
// loop run (setImmediate) before the next slice, and the socket's back-pressure paces the rest.
// The bytes are the same as JSON.stringify's.
import { Readable } from 'node:stream';

/** Answers of at least this many JSON characters (as the budget counted them) are streamed. */
export const STREAM_ANSWERS_FROM_BYTES = 256 * 1024;

export const SLICE_CHARS = 64 * 1024;
const SLICE_MS = 4;
// Containers less deep than this are taken apart: the answer (0), `data` (1), `sightings` (2) and
// its `docs` (3), so that each entity (4) is one piece; refer links (2) are one piece each.
const EXPANDED_DEPTH = 4;

function* pieces(value: unknown, depth: number): Generator<string> {
  if (depth >= EXPANDED_DEPTH || value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) yield ',';
      const item: unknown = value[index];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') yield 'null';
      else yield* pieces(item, depth + 1);
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* pieces(item, depth + 1);
  }
  yield '}';
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function* slices(value: unknown): AsyncGenerator<string> {
  let slice = '';
  let started = performance.now();
  for (const piece of pieces(value, 0)) {
    slice += piece;
    if (slice.length >= SLICE_CHARS) {
      yield slice;
      slice = '';
      if (performance.now() - started >= SLICE_MS) {
        await nextTurn();
        started = performance.now();
      }
    }
  }
  if (slice !== '') yield slice;
}

/** The answer's JSON as a byte stream. */
export function answerStream(value: unknown): Readable {
  return Readable.from(slices(value), { objectMode: false });
}
