import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consensusOf, summariseProvider } from './summary.js';
import type { ProviderResult } from './types.js';

const identity = { id: 'p', name: 'P' };

test('titles: sightings, then indicators, then judgement reasons; at most five, each once', () => {
  const observe = {
    data: {
      sightings: { count: 3, docs: [{ title: 'seen A', observed_time: { start_time: '2026-03-01T00:00:00Z' } }, { title: 'seen A' }, { title: ' ' }] },
      indicators: { count: 2, docs: [{ title: 'indicator B' }, { title: 'indicator C' }] },
      judgements: { count: 3, docs: [{ reason: 'reason D' }, { reason: 'reason E' }, { reason: 'reason F' }] },
    },
  };
  const result = summariseProvider(identity, observe as never, { data: [] }, { ctim: false });
  assert.equal(result.status, 'ok');
  assert.deepEqual(result.status === 'ok' && result.titles, ['seen A', 'indicator B', 'indicator C', 'reason D', 'reason E']);
  assert.ok(result.status === 'ok' && !('ctim' in result));
});

test('first_seen and last_seen span the sightings, start and end times', () => {
  const observe = {
    data: {
      sightings: {
        count: 3,
        docs: [
          { observed_time: { start_time: '2026-05-01T00:00:00Z', end_time: '2026-05-02T00:00:00Z' } },
          { observed_time: { start_time: '2025-01-01T10:00:00Z' } },
          { observed_time: { start_time: 'not a time' } },
        ],
      },
    },
  };
  const result = summariseProvider(identity, observe as never, undefined, { ctim: true });
  assert.ok(result.status === 'ok');
  assert.equal(result.first_seen, '2025-01-01T10:00:00.000Z');
  assert.equal(result.last_seen, '2026-05-02T00:00:00.000Z');
  assert.deepEqual(result.ctim, observe.data);
  assert.deepEqual(result.counts, { judgements: 0, sightings: 3, indicators: 0, relationships: 0 });
});

test('an observe error is the result; a refer error keeps the observe answer', () => {
  const failed = summariseProvider(identity, { errors: [{ type: 'fatal', code: 'too many requests', message: 'slow down' }] }, undefined, { ctim: true });
  assert.deepEqual(failed, { id: 'p', name: 'P', status: 'error', error: { code: 'too many requests', message: 'slow down' } });
  const referFailed = summariseProvider(identity, { data: {} }, { errors: [{ type: 'fatal', code: 'unknown', message: 'Something went wrong.' }] }, { ctim: false });
  assert.equal(referFailed.status, 'ok');
  assert.deepEqual(referFailed.status === 'ok' && referFailed.error, { code: 'unknown', message: 'Something went wrong.' });
});

test('the consensus ignores errors and skipped providers', () => {
  const results: ProviderResult[] = [
    { id: 'a', name: 'A', status: 'error', error: { code: 'unknown', message: 'x' } },
    { id: 'b', name: 'B', status: 'skipped', reason: 'no credentials' },
  ];
  assert.deepEqual(consensusOf(results), { disposition: 5, disposition_name: 'Unknown', malicious: 0, suspicious: 0, clean: 0, unknown: 0, answered: 0 });
  assert.deepEqual(consensusOf([]), { disposition: 5, disposition_name: 'Unknown', malicious: 0, suspicious: 0, clean: 0, unknown: 0, answered: 0 });
});
