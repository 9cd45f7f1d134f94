import { test } from 'node:test';
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { SLICE_CHARS, answerStream } from './answer-stream.js';

test('the streamed answer is byte for byte what JSON.stringify writes', async () => {
  const docs = Array.from({ length: 5000 }, (_, index) => ({
    id: `transient:sighting-${index}`,
    title: `quote " backslash \\ unicode é ${index}`,
    skipped: undefined,
    list: [1, undefined, 'x', null, { deep: { deeper: [index] } }],
  }));
  const answers: unknown[] = [
    { data: { sightings: { count: docs.length, docs }, verdicts: { count: 0, docs: [] } }, errors: [{ type: 'fatal', code: 'unknown', message: 'x' }] },
    { data: docs.slice(0, 10) },
    { data: {} },
    { errors: [] },
  ];
  for (const answer of answers) assert.equal(await text(answerStream(answer)), JSON.stringify(answer));
});

test('a large list of entities is written in slices, each entity serialised on its own', async () => {
  const entity = (index: number) => ({ id: `transient:sighting-${index}`, description: 'x'.repeat(200) });
  const docs = Array.from({ length: 5000 }, (_, index) => entity(index));
  const answer = { data: { sightings: { count: docs.length, docs } } };
  const chunks: string[] = [];
  for await (const chunk of answerStream(answer)) chunks.push(String(chunk));
  assert.equal(chunks.join(''), JSON.stringify(answer));
  // About 1.2 MB: many slices, none much larger than a slice (an entity is the unit).
  assert.ok(chunks.length >= 15, `${chunks.length} chunks`);
  const largestEntity = JSON.stringify(entity(docs.length)).length + 1;
  for (const chunk of chunks) assert.ok(chunk.length < SLICE_CHARS + largestEntity, `a chunk of ${chunk.length} characters`);
});
