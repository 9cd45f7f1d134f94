import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bundle, pruneRelationships } from './bundle.js';
import { buildIndicator, buildJudgement, buildRelationship, buildSighting, buildVerdict, newest, parseUtcTime, stableId, transientId } from './ctim.js';
import { RelayError, uniqueErrors } from './errors.js';

const observable = { type: 'ip' as const, value: '1.2.3.4' };

test('transient ids carry the entity type and are unique', () => {
  const a = transientId('sighting');
  assert.match(a, /^transient:sighting-[0-9a-f-]{36}$/);
  assert.notEqual(a, transientId('sighting'));
});

test('stable ids are the same for the same parts and differ otherwise', () => {
  assert.equal(stableId('indicator', 'otx', 'pulse-1'), stableId('indicator', 'otx', 'pulse-1'));
  assert.notEqual(stableId('indicator', 'otx', 'pulse-1'), stableId('indicator', 'otx', 'pulse-2'));
  assert.match(stableId('indicator', 'x'), /^transient:indicator-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
});

test('provider times are read as UTC and formatted with Z', () => {
  assert.equal(parseUtcTime('2020-01-02 03:04:05')?.toISOString(), '2020-01-02T03:04:05.000Z');
  assert.equal(parseUtcTime('2020-01-02')?.toISOString(), '2020-01-02T00:00:00.000Z');
  assert.equal(parseUtcTime('2020-01-02T03:04:05+02:00')?.toISOString(), '2020-01-02T01:04:05.000Z');
  assert.equal(parseUtcTime('nonsense'), undefined);
  assert.equal(parseUtcTime(''), undefined);
});

test('verdicts and judgements carry disposition and disposition_name', () => {
  const verdict = buildVerdict(observable, 'suspicious', { start_time: 'a' });
  assert.equal(verdict.disposition, 3);
  assert.equal(verdict.disposition_name, 'Suspicious');
  const judgement = buildJudgement({
    observable,
    disposition: 'clean',
    source: 'S',
    validTime: {},
    confidence: 'High',
    severity: 'None',
    priority: 85,
  });
  assert.equal(judgement.disposition, 1);
  assert.equal(judgement.disposition_name, 'Clean');
  assert.equal(judgement.schema_version, buildSighting({ confidence: 'High', observedTime: { start_time: 'x' } }).schema_version);
});

test('newest keeps the latest items up to the limit', () => {
  const items = [{ t: '2020-01-01' }, { t: '2022-01-01' }, { t: '2021-01-01' }];
  assert.deepEqual(newest(items, 2, (item) => item.t), [{ t: '2022-01-01' }, { t: '2021-01-01' }]);
});

test('the bundle renders count/docs, leaves empty lists out, and keeps one entity per id', () => {
  const indicator = buildIndicator({ id: stableId('indicator', 'feed'), producer: 'P', validTime: {} });
  const sighting = buildSighting({ confidence: 'High', observedTime: { start_time: 'x' } });
  const bundle = new Bundle();
  bundle.add({ indicators: [indicator], sightings: [sighting], relationships: [buildRelationship('member-of', sighting, indicator)] });
  bundle.add({ indicators: [{ ...indicator }] });
  const data = bundle.toData();
  assert.deepEqual(Object.keys(data).sort(), ['indicators', 'relationships', 'sightings']);
  assert.equal(data.indicators?.count, 1);
  assert.equal(data.relationships?.docs[0]?.source_ref, sighting.id);
});

test('relationships pointing outside the bundle are found and never rendered', () => {
  const sighting = buildSighting({ confidence: 'High', observedTime: { start_time: 'x' } });
  const bundle = new Bundle();
  bundle.add({ sightings: [sighting], relationships: [buildRelationship('sighting-of', sighting, { id: 'transient:indicator-missing' })] });
  assert.equal(bundle.danglingRelationships().length, 1);
  assert.equal(bundle.toData().relationships, undefined);
});

test('pruneRelationships drops the relationships of capped entities', () => {
  const kept = buildSighting({ confidence: 'High', observedTime: { start_time: 'x' } });
  const dropped = buildSighting({ confidence: 'High', observedTime: { start_time: 'y' } });
  const indicator = buildIndicator({ producer: 'P', validTime: {} });
  const result = pruneRelationships({
    sightings: [kept],
    indicators: [indicator],
    relationships: [buildRelationship('sighting-of', kept, indicator), buildRelationship('sighting-of', dropped, indicator)],
  });
  assert.equal(result.relationships?.length, 1);
  assert.equal(result.relationships?.[0]?.source_ref, kept.id);
});

test('errors are de-duplicated by code and message', () => {
  const errors = [new RelayError('unknown', 'a'), new RelayError('unknown', 'a'), new RelayError('key error', 'a')];
  assert.deepEqual(uniqueErrors(errors), [
    { type: 'fatal', code: 'unknown', message: 'a' },
    { type: 'fatal', code: 'key error', message: 'a' },
  ]);
});
