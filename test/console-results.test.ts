// The console's derivations of the enrichment answer (console/src/results.ts), as pure functions:
// the stream applied line by line, the agreement text, the summary, sorting, filtering, the CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agreementText,
  applyLine,
  emptyResults,
  filterRows,
  relationsOf,
  sortRows,
  summaryText,
  toAnswer,
  toCsv,
  verdictSummary,
} from '../console/src/results.js';

const providers = [
  { id: 'xforce', name: 'IBM X-Force Exchange', types: ['ip', 'domain'], credentials: [] },
  { id: 'pulsedive', name: 'Pulsedive', types: ['ip', 'domain'], credentials: [] },
  { id: 'otx', name: 'AlienVault OTX', types: ['ip'], credentials: [] },
];
const ip = { type: 'ip', value: '198.51.100.7' };
const domain = { type: 'domain', value: '=cmd.example.com' };
const verdict = (name: string, counts: Partial<Record<'malicious' | 'suspicious' | 'clean' | 'unknown', number>>) => {
  const full = { malicious: 0, suspicious: 0, clean: 0, unknown: 0, ...counts };
  const disposition = { Malicious: 2, Suspicious: 3, Clean: 1, Unknown: 5 }[name]!;
  return { disposition, disposition_name: name, ...full, answered: full.malicious + full.suspicious + full.clean + full.unknown };
};

function streamed() {
  let results = emptyResults([ip, domain], providers);
  results = applyLine(results, { observable: ip, provider: { id: 'xforce', name: 'IBM X-Force Exchange', status: 'ok', verdict: { disposition: 2, disposition_name: 'Malicious' }, titles: ['Botnet C2'], first_seen: '2026-01-02T00:00:00.000Z', last_seen: '2026-11-30T12:00:00.000Z', ctim: { sightings: { count: 1, docs: [{ relations: [{ origin: 'X', relation: 'Resolved_To', source: { type: 'domain', value: 'a.example.com' }, related: ip }] }] } } } });
  results = applyLine(results, { observable: ip, provider: { id: 'pulsedive', name: 'Pulsedive', status: 'error', error: { code: 'too many requests', message: 'Too many requests to Pulsedive.' } } });
  results = applyLine(results, { observable: ip, provider: { id: 'otx', name: 'AlienVault OTX', status: 'ok' } });
  results = applyLine(results, { observable: ip, verdict: verdict('Malicious', { malicious: 1, unknown: 1 }) });
  return results;
}

test('lines fill rows in: providers as they arrive, the verdict when all are done, pending until then', () => {
  const results = streamed();
  const [first, second] = results.rows;
  assert.deepEqual(first!.providers.map((provider) => provider.status), ['ok', 'error', 'ok']);
  assert.equal(agreementText(first!.verdict), '1 of 2 malicious');
  assert.equal(second!.verdict, undefined);
  assert.equal(agreementText(second!.verdict), 'waiting for providers');
  assert.deepEqual(second!.expected.map((provider) => provider.id), ['xforce', 'pulsedive']);
  assert.equal(summaryText(results.rows), '2 observables: 1 malicious, 0 suspicious, 0 clean, 0 unknown, 1 pending');
  const done = applyLine(applyLine(results, { observable: domain, verdict: verdict('Unknown', {}) }), { done: true, withheld: [{ type: 'ip', value: '10.0.0.5', reason: 'private address' }] });
  assert.equal(done.done, true);
  assert.equal(agreementText(done.rows[1]!.verdict), 'no provider answered');
  assert.equal(summaryText(done.rows), '2 observables: 1 malicious, 0 suspicious, 0 clean, 1 unknown');
  assert.equal((toAnswer(done) as any).data.withheld[0].value, '10.0.0.5');
});

test('sorting by verdict puts the most severe first; filtering keeps the chosen verdicts', () => {
  const results = streamed();
  assert.deepEqual(sortRows(results.rows, 'verdict').map((row) => row.observable.value), [ip.value, domain.value]);
  assert.deepEqual(sortRows(results.rows, 'observable').map((row) => row.observable.value), [domain.value, ip.value]);
  assert.deepEqual(filterRows(results.rows, new Set(['pending'] as const)).map((row) => row.observable.value), [domain.value]);
});

test('the CSV: one column per provider, errors with their message, formulas quoted as text', () => {
  const csv = toCsv(streamed().rows, providers);
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines[0], 'type,value,verdict,agreement,malicious,suspicious,clean,unknown,answered,xforce,pulsedive,otx,titles,first_seen,last_seen');
  assert.equal(lines[1], 'ip,198.51.100.7,Malicious,1 of 2 malicious,1,0,0,1,2,Malicious,error: Too many requests to Pulsedive.,no verdict,Botnet C2,2026-01-02T00:00:00.000Z,2026-11-30T12:00:00.000Z');
  assert.equal(lines[2], `domain,"'=cmd.example.com",Pending,waiting for providers,,,,,,pending,pending,,,,`);
});

test("a row's verdict summary and its relations", () => {
  const [row] = streamed().rows;
  assert.equal(verdictSummary(row!), '198.51.100.7 (ip): Malicious, 1 of 2 malicious [IBM X-Force Exchange: Malicious; Pulsedive: error: Too many requests to Pulsedive.; AlienVault OTX: no verdict]');
  assert.deepEqual(relationsOf(row!).map((relation) => relation.source.value), ['a.example.com']);
});
