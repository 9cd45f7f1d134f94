import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pulseIndicator, pulseIndicatorSchema } from './answers.js';

test("a page's entries are checked by hand exactly as pulseIndicatorSchema would check them", () => {
  const entries: unknown[] = [
    { indicator: '198.51.100.7', created: '2023-08-02T09:10:00', expiration: '2023-09-01T09:00:00', id: 1, type: 'IPv4' },
    { indicator: '198.51.100.7', created: '2023-08-02T09:10:00', expiration: null },
    { indicator: '198.51.100.7', created: '2023-08-02T09:10:00' },
    { indicator: '198.51.100.7', created: '2023-08-02T09:10:00', expiration: 5 },
    { indicator: '198.51.100.7' },
    { indicator: 7, created: '2023-08-02T09:10:00' },
    { created: '2023-08-02T09:10:00' },
    null,
    'text',
    ['198.51.100.7'],
    {},
  ];
  for (const entry of entries) {
    const parsed = pulseIndicatorSchema.safeParse(entry);
    assert.deepEqual(pulseIndicator(entry), parsed.success ? parsed.data : undefined, JSON.stringify(entry));
  }
});
