import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError } from './errors.js';
import { parseJsonBody, parseObservables } from './observables.js';

const ALL = ['ip', 'ipv6', 'domain', 'url', 'email', 'md5', 'sha1', 'sha256'] as const;

function invalidArgument(fn: () => unknown, contains: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RelayError);
    assert.equal(error.code, 'invalid argument');
    assert.match(error.message, /^Invalid JSON payload received\. /);
    assert.ok(error.message.includes(contains), error.message);
    return true;
  });
}

test('body that is not JSON, empty, or not UTF-8 is an invalid argument', () => {
  invalidArgument(() => parseJsonBody(Buffer.from('{')), 'not valid JSON');
  invalidArgument(() => parseJsonBody(Buffer.from('   ')), 'empty');
  invalidArgument(() => parseJsonBody(undefined), 'empty');
  invalidArgument(() => parseJsonBody(Buffer.from([0x5b, 0xff, 0xfe, 0x5d])), 'UTF-8');
});

test('a body that is not an array says what it got', () => {
  invalidArgument(() => parseObservables({ type: 'ip', value: '1.1.1.1' }, ALL, 100), 'got an object');
  invalidArgument(() => parseObservables('x', ALL, 100), 'got a string');
  invalidArgument(() => parseObservables(null, ALL, 100), 'got null');
});

test('missing, empty and non-string fields are named with their index', () => {
  invalidArgument(() => parseObservables([{ type: 'ip' }], ALL, 100), '0.value: Missing data for required field.');
  invalidArgument(() => parseObservables([{ type: '', value: 'x' }], ALL, 100), '0.type: Field may not be blank.');
  invalidArgument(() => parseObservables([{ type: 'ip', value: 5 }], ALL, 100), '0.value: Not a valid string.');
  invalidArgument(() => parseObservables([1], ALL, 100), '0: expected an object, got a number');
});

test('too many observables are refused with the limit named', () => {
  const many = Array.from({ length: 6 }, (_, i) => ({ type: 'ip', value: `1.1.1.${i}` }));
  invalidArgument(() => parseObservables(many, ALL, 5), 'at most 5');
});

test('types are lower-cased, unsupported and invalid dropped, duplicates looked up once', () => {
  const result = parseObservables(
    [
      { type: 'IP', value: '1.2.3.4' },
      { type: 'ip', value: '1.2.3.4' },
      { type: 'ip', value: '1.2.3.400' },
      { type: 'file_name', value: 'evil.exe' },
      { type: 'domain', value: 'example.com' },
      { type: 'url', value: 'example.com' },
      { type: 'sha256', value: 'abc' },
    ],
    ['ip', 'domain', 'url'],
    100,
  );
  assert.deepEqual(result, [
    { type: 'ip', value: '1.2.3.4' },
    { type: 'domain', value: 'example.com' },
    { type: 'url', value: 'example.com' },
  ]);
});

test('an empty list is valid and gives nothing to look up', () => {
  assert.deepEqual(parseObservables([], ALL, 100), []);
});
