import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pulse, pulseIndicator, pulseIndicatorSchema, pulseSchema } from './answers.js';

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

test('pulses are checked by hand exactly as pulseSchema would check them', () => {
  const base = { id: 'p1', name: 'A pulse', author: { username: 'analyst', id: 7 }, created: '2023-08-02T09:10:00', indicator_type_counts: { IPv4: 3 }, extra: 1 };
  const pulses: unknown[] = [
    base,
    { ...base, description: 'text', tags: ['a', 'b'], TLP: 'white', modified: '2023-08-03T00:00:00' },
    { ...base, description: null, tags: null, TLP: null, modified: null },
    { ...base, tags: ['a', 1] },
    { ...base, tags: 'a' },
    { ...base, id: '' },
    { ...base, id: 5 },
    { ...base, name: undefined },
    { ...base, author: { username: '' } },
    { ...base, author: null },
    { ...base, author: [] },
    { ...base, created: null },
    { ...base, description: 5 },
    { ...base, TLP: {} },
    { ...base, modified: 1 },
    { ...base, indicator_type_counts: null },
    { ...base, indicator_type_counts: [] },
    { ...base, indicator_type_counts: {} },
    null,
    [],
    'pulse',
  ];
  for (const entry of pulses) {
    const parsed = pulseSchema.safeParse(entry);
    assert.deepEqual(pulse(entry), parsed.success ? parsed.data : undefined, JSON.stringify(entry));
  }
});

test('findings mapped in turns are the same entities as mapped at once, with turns between slices', async () => {
  const { mapPulseFindings, mapPulseFindingsInTurns } = await import('./mapping.js');
  const observable = { type: 'ip', value: '198.51.100.7' } as const;
  const findings = Array.from({ length: 250 }, (_, index) => ({
    pulse: {
      id: `pulse-${index}`,
      name: `Pulse ${index}`,
      author: { username: 'analyst' },
      created: `2023-08-${String(1 + (index % 28)).padStart(2, '0')}T09:10:00`,
      indicator_type_counts: { IPv4: 1 },
    },
    indicator: undefined,
  }));
  const options = { baseUrl: 'https://otx.alienvault.com', entitiesLimit: 200 };
  let turns = 0;
  const inTurns = await mapPulseFindingsInTurns(observable, findings, options, async () => void (turns += 1));
  // Sightings and relationships have random ids: compared without them.
  const withoutRandomIds = (result: object) => JSON.parse(JSON.stringify(result, (key, value) => (['id', 'source_ref'].includes(key) && /sighting|relationship/.test(String(value)) ? undefined : value)));
  assert.deepEqual(withoutRandomIds(inTurns), withoutRandomIds(mapPulseFindings(observable, findings, options)));
  assert.equal(inTurns.sightings?.length, 200);
  assert.equal(turns, 2);
});
