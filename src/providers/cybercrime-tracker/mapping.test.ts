import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from '../../core/errors.js';
import { fixture } from '../../../test/helpers/fake-upstream.js';
import { lookupValue, mapQueryAnswer, maliciousFamily, parseQueryAnswer, referLink } from './mapping.js';

const base = 'http://cct.example/';
const now = new Date('2024-03-01T12:00:00.000Z');
const malicious = parseQueryAnswer(fixture(import.meta.url, 'malicious.json'));
const notListed = parseQueryAnswer(fixture(import.meta.url, 'not-listed.json'));

test('a url is looked up by the part after ://; ip and domain as given', () => {
  assert.equal(lookupValue({ type: 'url', value: 'http://c2.example.net/panel/gate.php' }), 'c2.example.net/panel/gate.php');
  assert.equal(lookupValue({ type: 'url', value: 'c2.example.net/gate.php' }), 'c2.example.net/gate.php');
  assert.equal(lookupValue({ type: 'ip', value: '1.2.3.4' }), '1.2.3.4');
  assert.equal(lookupValue({ type: 'domain', value: 'c2.example.net' }), 'c2.example.net');
});

test('the family after "Malicious: " is kept', () => {
  assert.equal(maliciousFamily(malicious), 'Keitaro');
  assert.equal(maliciousFamily(notListed), undefined);
});

test('an answer without a message is a key error', () => {
  assert.throws(
    () => parseQueryAnswer(fixture(import.meta.url, 'changed-shape.json')),
    (error: unknown) => error instanceof RelayError && error.code === 'key error' && error.message === 'The data structure of CyberCrime Tracker has changed. The module is broken.',
  );
});

test('observe of a malicious url: verdict and judgement, field by field', () => {
  const observable = { type: 'url' as const, value: 'http://c2.example.net/gate.php?a=1&b=2' };
  const result = mapQueryAnswer(malicious, observable, { baseUrl: base, now, withJudgement: true });
  const validTime = { start_time: '2024-03-01T12:00:00.000Z', end_time: '2024-03-08T12:00:00.000Z' };
  const judgement = result.judgements?.[0];
  assert.ok(judgement);
  assert.match(judgement.id, /^transient:judgement-[0-9a-f-]{36}$/);
  assert.deepEqual({ ...judgement, id: 'x' }, {
    id: 'x',
    type: 'judgement',
    schema_version: judgement.schema_version,
    source: 'CyberCrime Tracker',
    observable,
    disposition: 2,
    disposition_name: 'Malicious',
    confidence: 'Low',
    priority: 90,
    severity: 'Medium',
    valid_time: validTime,
    source_uri: 'http://cct.example/index.php?search=c2.example.net%2Fgate.php%3Fa%3D1%26b%3D2',
    reason: 'Keitaro',
  });
  assert.deepEqual(result.verdicts, [
    { type: 'verdict', disposition: 2, disposition_name: 'Malicious', observable, valid_time: validTime, judgement_id: judgement.id },
  ]);
});

test('deliberate gives the verdict only; a clean answer gives nothing', () => {
  const observable = { type: 'ip' as const, value: '1.2.3.4' };
  const deliberate = mapQueryAnswer(malicious, observable, { baseUrl: base, now, withJudgement: false });
  assert.equal(deliberate.verdicts?.length, 1);
  assert.equal(deliberate.judgements, undefined);
  assert.equal(deliberate.verdicts?.[0]?.judgement_id, undefined);
  assert.deepEqual(mapQueryAnswer(notListed, observable, { baseUrl: base, now, withJudgement: true }), {});
});

test('refer links the search page', () => {
  assert.deepEqual(referLink(base, { type: 'url', value: 'http://a.example/x y' }), {
    id: 'ref-cybercrime-tracker-search-url-http%3A%2F%2Fa.example%2Fx%20y',
    title: 'Search for this URL',
    description: 'Lookup this URL on CyberCrime Tracker',
    url: 'http://cct.example/index.php?search=a.example%2Fx+y',
    categories: ['Search', 'CyberCrime Tracker'],
  });
  assert.equal(referLink(base, { type: 'ip', value: '1.2.3.4' }).title, 'Search for this IP');
  assert.equal(referLink(base, { type: 'domain', value: 'a.example' }).description, 'Lookup this domain on CyberCrime Tracker');
});
