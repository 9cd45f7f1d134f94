import { test } from 'node:test';
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { answerStream } from './answer-stream.js';

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
