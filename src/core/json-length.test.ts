import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonLength } from './json-length.js';

test('jsonLength is the length of what JSON.stringify writes', () => {
  const values: unknown[] = [
    null,
    true,
    false,
    0,
    -0,
    -12.5,
    1e21,
    5e-7,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    'plain',
    'quote " backslash \\ slash /',
    'tab\tnewline\ncontrol \u0001 \u001f',
    'unicode é ü 漢字 😀',
    'lone \ud800 surrogate \udfff',
    [],
    {},
    [1, undefined, () => 1, Symbol('s'), null, 'x'],
    { a: 1, skipped: undefined, fn: () => 1, 'key "quoted"': 'v', nested: { deep: [{ deeper: [1, 2, { x: 'y' }] }] } },
    { date: new Date('2026-12-01T00:00:00.000Z'), boxed: [new String('s'), new Number(3), new Boolean(false)] },
    Object.assign(Object.create({ inherited: 1 }), { own: 2 }),
    { [Symbol('hidden')]: 1, shown: 2 },
    new Map([['a', 1]]),
    {
      sightings: Array.from({ length: 200 }, (_, index) => ({
        id: `transient:sighting-${index}`,
        observed_time: { start_time: '2026-01-01T00:00:00.000Z' },
        observables: [{ type: 'ip', value: '198.18.0.1' }],
        count: index,
        confidence: 'High',
        internal: false,
      })),
    },
  ];
  for (const value of values) assert.equal(jsonLength(value), JSON.stringify(value)?.length, JSON.stringify(value)?.slice(0, 80));
  assert.equal(jsonLength(undefined), undefined);
  assert.equal(jsonLength(() => 1), undefined);
});
