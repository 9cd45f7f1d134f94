import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObservableResult } from '../../core/bundle.js';
import { CTIM_SCHEMA_VERSION, stableId, type Indicator, type Judgement, type Relationship, type Sighting } from '../../core/ctim.js';
import { RelayError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import { fixture } from '../../../test/helpers/fake-upstream.js';
import { parseCollections, parseReport, parseResolutions, reportKind, type Report } from './answers.js';
import { xforceRiskAssessment, xforceScoreAssessment } from './assessment.js';
import { DISPLAY_NAME } from './display-name.js';
import { FILE_VERDICT_END, mapCollections, mapObservation, mapReport, mapResolutions, mapVerdict } from './mapping.js';
import { referLink } from './refer.js';

const UI = 'https://exchange.xforce.example/';
const NOW = new Date('2021-06-01T12:00:00.000Z');
const OPTIONS = { uiUrl: UI, now: NOW };
const NOW_TEXT = '2021-06-01T12:00:00.000Z';
const IN_7_DAYS = '2021-06-08T12:00:00.000Z';
const IN_30_DAYS = '2021-07-01T12:00:00.000Z';

const load = (name: string): unknown => fixture(import.meta.url, name);
const report = (observable: Observable, name: string): Report => parseReport(reportKind(observable.type), load(name));

const IP: Observable = { type: 'ip', value: '198.51.100.23' };
const IPV6: Observable = { type: 'ipv6', value: '2001:0db8:85a3:0000:0000:8a2e:0370:7334' };
const DOMAIN: Observable = { type: 'domain', value: 'ibm.com' };
const URL_OBSERVABLE: Observable = { type: 'url', value: 'http://malware.example.net/dropper/update.php?id=7' };
const MD5: Observable = { type: 'md5', value: '84c82835a5d21bbcf75a61706d8ab549' };
const SHA1: Observable = { type: 'sha1', value: '3395856ce81f2b7382dee72602f798b642f14140' };
const SHA256: Observable = { type: 'sha256', value: '091835b16192e526ee1b8a04d0fcef534544cad306672066f2ad6973a4b18b19' };

function sightings(result: ObservableResult): Sighting[] {
  return result.sightings ?? [];
}
function indicators(result: ObservableResult): Indicator[] {
  return result.indicators ?? [];
}
function judgements(result: ObservableResult): Judgement[] {
  return result.judgements ?? [];
}
function relationships(result: ObservableResult): Relationship[] {
  return result.relationships ?? [];
}
function titles(entities: readonly Record<string, unknown>[]): unknown[] {
  return entities.map((entity) => entity.title);
}
function pairs(result: ObservableResult): [string, string, string][] {
  return relationships(result).map((rel) => [rel.relationship_type, rel.source_ref, rel.target_ref]);
}
function assertRelationshipsJoinPresentEntities(result: ObservableResult): void {
  const ids = new Set([...judgements(result), ...indicators(result), ...sightings(result)].map((entity) => entity.id));
  for (const rel of relationships(result)) {
    assert.ok(ids.has(rel.source_ref), `source_ref ${rel.source_ref} is in the result`);
    assert.ok(ids.has(rel.target_ref), `target_ref ${rel.target_ref} is in the result`);
  }
}
function assertKeyError(run: () => unknown): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof RelayError);
    assert.equal(error.code, 'key error');
    assert.equal(error.message, 'The data structure of IBM X-Force Exchange has changed. The module is broken.');
    return true;
  });
}

describe('score and risk → disposition and severity', () => {
  test('the score bands of providers.md', () => {
    const cases: [number | null, string, string][] = [
      [null, 'unknown', 'Unknown'],
      [0, 'unknown', 'Unknown'],
      [1, 'unknown', 'Low'],
      [3.9, 'unknown', 'Low'],
      [4, 'suspicious', 'Medium'],
      [6.9, 'suspicious', 'Medium'],
      [7, 'malicious', 'High'],
      [10, 'malicious', 'High'],
    ];
    for (const [score, disposition, severity] of cases) {
      assert.deepEqual(xforceScoreAssessment(score), { disposition, severity }, `score ${score}`);
    }
  });

  test('malware risk: low, medium, high; anything else Unknown', () => {
    assert.deepEqual(xforceRiskAssessment('low'), { disposition: 'unknown', severity: 'Low' });
    assert.deepEqual(xforceRiskAssessment('medium'), { disposition: 'suspicious', severity: 'Medium' });
    assert.deepEqual(xforceRiskAssessment('HIGH'), { disposition: 'malicious', severity: 'High' });
    assert.deepEqual(xforceRiskAssessment(null), { disposition: 'unknown', severity: 'Unknown' });
    assert.deepEqual(xforceRiskAssessment('catastrophic'), { disposition: 'unknown', severity: 'Unknown' });
  });
});

describe('ip and ipv6 reports', () => {
  const result = mapReport(IP, report(IP, 'ip-report.json'), OPTIONS);

  test('verdict from the overall score, valid 30 days', () => {
    assert.deepEqual(result.verdicts, [
      {
        type: 'verdict',
        disposition: 2,
        disposition_name: 'Malicious',
        observable: IP,
        valid_time: { start_time: NOW_TEXT, end_time: IN_30_DAYS },
      },
    ]);
  });

  test('a sighting per category, sorted by name, observed at investigation time', () => {
    assert.deepEqual(titles(sightings(result)), ['Botnet Command and Control Server', 'Scanning IPs', 'Spam']);
    for (const sighting of sightings(result)) {
      assert.match(sighting.id, /^transient:sighting-[0-9a-f-]{36}$/);
      assert.equal(sighting.schema_version, CTIM_SCHEMA_VERSION);
      assert.equal(sighting.source, DISPLAY_NAME);
      assert.equal(sighting.confidence, 'High');
      assert.equal(sighting.count, 1);
      assert.equal(sighting.internal, false);
      assert.deepEqual(sighting.observables, [IP]);
      assert.deepEqual(sighting.observed_time, { start_time: NOW_TEXT, end_time: NOW_TEXT });
      assert.equal(sighting.source_uri, 'https://exchange.xforce.example/ip/198.51.100.23');
    }
  });

  test('an indicator per category with a stable id, its description and no tag', () => {
    const found = indicators(result);
    assert.deepEqual(titles(found), ['Botnet Command and Control Server', 'Scanning IPs', 'Spam']);
    assert.deepEqual(
      found.map((indicator) => indicator.id),
      ['Botnet Command and Control Server', 'Scanning IPs', 'Spam'].map((name) => stableId('indicator', DISPLAY_NAME, 'ip category', name)),
    );
    const spam = found[2]!;
    assert.equal(spam.producer, DISPLAY_NAME);
    assert.equal(spam.source, DISPLAY_NAME);
    assert.equal(spam.confidence, 'High');
    assert.equal(spam.schema_version, CTIM_SCHEMA_VERSION);
    assert.equal(spam.description, 'This category lists IP addresses that were seen sending out spam.');
    assert.deepEqual(spam.valid_time, { start_time: NOW_TEXT, end_time: IN_30_DAYS });
    assert.equal(spam.tags, undefined);
    // The same category of another ip is the same indicator.
    const other = mapReport(IPV6, report(IPV6, 'ipv6-report.json'), OPTIONS);
    assert.equal(indicators(other).find((indicator) => indicator.title === 'Spam')?.id, spam.id);
  });

  test('a judgement per category scored by its value / 10', () => {
    const found = judgements(result);
    assert.deepEqual(
      found.map((judgement) => [judgement.reason, judgement.disposition, judgement.disposition_name, judgement.severity]),
      [
        ['Botnet Command and Control Server', 2, 'Malicious', 'High'],
        ['Scanning IPs', 5, 'Unknown', 'Low'],
        ['Spam', 3, 'Suspicious', 'Medium'],
      ],
    );
    for (const judgement of found) {
      assert.match(judgement.id, /^transient:judgement-/);
      assert.equal(judgement.type, 'judgement');
      assert.equal(judgement.source, DISPLAY_NAME);
      assert.equal(judgement.confidence, 'High');
      assert.equal(judgement.priority, 85);
      assert.deepEqual(judgement.observable, IP);
      assert.deepEqual(judgement.valid_time, { start_time: NOW_TEXT, end_time: IN_7_DAYS });
      assert.equal(judgement.source_uri, 'https://exchange.xforce.example/ip/198.51.100.23');
    }
  });

  test('based-on from each sighting to its judgement and from the judgement to its indicator', () => {
    const expected = sightings(result).flatMap((sighting, index) => [
      ['based-on', sighting.id, judgements(result)[index]!.id],
      ['based-on', judgements(result)[index]!.id, indicators(result)[index]!.id],
    ]);
    assert.deepEqual(pairs(result), expected);
    for (const rel of relationships(result)) {
      assert.match(rel.id, /^transient:relationship-/);
      assert.equal(rel.schema_version, CTIM_SCHEMA_VERSION);
    }
  });

  test('ipv6: the score and each category as for ip; the page url encodes the address', () => {
    const ipv6 = mapReport(IPV6, report(IPV6, 'ipv6-report.json'), OPTIONS);
    assert.equal(ipv6.verdicts?.[0]?.disposition_name, 'Suspicious');
    assert.deepEqual(
      judgements(ipv6).map((judgement) => [judgement.reason, judgement.disposition_name, judgement.severity]),
      [
        ['IT', 'Unknown', 'Low'],
        ['Spam', 'Suspicious', 'Medium'],
      ],
    );
    assert.equal(sightings(ipv6)[0]?.source_uri, `${UI}ip/2001%3A0db8%3A85a3%3A0000%3A0000%3A8a2e%3A0370%3A7334`);
    assert.equal(relationships(ipv6).length, 4);
  });
});

describe('url and domain reports', () => {
  test('domain without a score: Unknown verdict and judgement, joined', () => {
    const result = mapReport(DOMAIN, report(DOMAIN, 'domain-report.json'), OPTIONS);
    const [judgement] = judgements(result);
    assert.ok(judgement);
    assert.deepEqual(result.verdicts, [
      {
        type: 'verdict',
        disposition: 5,
        disposition_name: 'Unknown',
        observable: DOMAIN,
        valid_time: { start_time: NOW_TEXT, end_time: IN_30_DAYS },
        judgement_id: judgement.id,
      },
    ]);
    assert.equal(judgements(result).length, 1);
    assert.deepEqual(
      [judgement.disposition, judgement.disposition_name, judgement.severity, judgement.confidence, judgement.priority],
      [5, 'Unknown', 'Unknown', 'High', 85],
    );
    assert.deepEqual(judgement.valid_time, { start_time: NOW_TEXT, end_time: IN_7_DAYS });
    assert.equal(judgement.source_uri, `${UI}url/ibm.com`);
  });

  test("a category's flag is tagged as the original writes it (Python's str): True or False", () => {
    const flags = parseReport('url', { result: { url: 'ibm.com', cats: { Spam: false, 'General Business': true }, score: 1 } });
    const result = mapReport(DOMAIN, flags, OPTIONS);
    assert.deepEqual(
      indicators(result).map((indicator) => [indicator.title, indicator.tags]),
      [
        ['General Business', ['True']],
        ['Spam', ['False']],
      ],
    );
  });

  test('domain: a sighting and an indicator per category, tagged with the flag, joined by sighting-of', () => {
    const result = mapReport(DOMAIN, report(DOMAIN, 'domain-report.json'), OPTIONS);
    assert.deepEqual(titles(sightings(result)), ['General Business', 'Software / Hardware']);
    assert.deepEqual(titles(indicators(result)), ['General Business', 'Software / Hardware']);
    assert.deepEqual(
      indicators(result).map((indicator) => indicator.tags),
      [['True'], ['True']],
    );
    assert.equal(indicators(result)[0]?.id, stableId('indicator', DISPLAY_NAME, 'url category', 'General Business'));
    assert.equal(
      indicators(result)[1]?.description,
      'This category includes Web sites from the area of software, computer hardware and other electronic components.',
    );
    assert.deepEqual(
      pairs(result),
      sightings(result).map((sighting, index) => ['sighting-of', sighting.id, indicators(result)[index]!.id]),
    );
    for (const sighting of sightings(result)) assert.equal(sighting.source_uri, `${UI}url/ibm.com`);
  });

  test('url with score 10: Malicious/High; its page url holds the whole value as one segment', () => {
    const result = mapReport(URL_OBSERVABLE, report(URL_OBSERVABLE, 'url-report.json'), OPTIONS);
    assert.deepEqual([result.verdicts?.[0]?.disposition, result.verdicts?.[0]?.disposition_name], [2, 'Malicious']);
    assert.deepEqual([judgements(result)[0]?.disposition_name, judgements(result)[0]?.severity], ['Malicious', 'High']);
    assert.deepEqual(titles(sightings(result)), ['Malware', 'Phishing URLs']);
    assert.equal(sightings(result)[0]?.source_uri, `${UI}url/${encodeURIComponent(URL_OBSERVABLE.value)}`);
    assert.equal(relationships(result).length, 2);
  });
});

describe('file reports', () => {
  const cases: [Observable, string, number, string, string][] = [
    [MD5, 'md5-report.json', 2, 'Malicious', 'High'],
    [SHA1, 'sha1-report.json', 3, 'Suspicious', 'Medium'],
    [SHA256, 'sha256-report.json', 5, 'Unknown', 'Low'],
    [MD5, 'malware-unrated-report.json', 5, 'Unknown', 'Unknown'],
  ];
  for (const [observable, name, disposition, dispositionName, severity] of cases) {
    test(`${name}: ${dispositionName}/${severity}, verdict valid until 2525, no sighting`, () => {
      const result = mapReport(observable, report(observable, name), OPTIONS);
      const [judgement] = judgements(result);
      assert.ok(judgement);
      assert.deepEqual(result.verdicts, [
        {
          type: 'verdict',
          disposition,
          disposition_name: dispositionName,
          observable,
          valid_time: { start_time: NOW_TEXT, end_time: FILE_VERDICT_END },
          judgement_id: judgement.id,
        },
      ]);
      assert.deepEqual([judgement.disposition, judgement.disposition_name, judgement.severity], [disposition, dispositionName, severity]);
      assert.deepEqual(judgement.valid_time, { start_time: NOW_TEXT, end_time: IN_7_DAYS });
      assert.equal(judgement.source_uri, `${UI}malware/${observable.value}`);
      assert.equal(sightings(result).length, 0);
      assert.equal(indicators(result).length, 0);
    });
  }
  test('FILE_VERDICT_END is 2525-01-01', () => assert.equal(FILE_VERDICT_END, '2525-01-01T00:00:00.000Z'));
});

describe('DNS information', () => {
  test('domain: Resolved_To its live and passive A/AAAA addresses, each once, sorted', () => {
    const result = mapResolutions(DOMAIN, parseResolutions(load('domain-resolve.json')), OPTIONS);
    assert.equal(sightings(result).length, 1);
    const sighting = sightings(result)[0]!;
    assert.equal(sighting.title, 'DNS Information');
    assert.equal(sighting.description, 'IP addresses that ibm.com resolves to');
    assert.deepEqual(sighting.observed_time, { start_time: NOW_TEXT, end_time: NOW_TEXT });
    assert.equal(sighting.source_uri, `${UI}url/ibm.com`);
    assert.deepEqual(sighting.observables, [DOMAIN]);
    const origin = 'IBM X-Force Exchange Enrichment Module';
    assert.deepEqual(sighting.relations, [
      { origin, relation: 'Resolved_To', source: DOMAIN, related: { type: 'ip', value: '129.42.38.10' } },
      { origin, relation: 'Resolved_To', source: DOMAIN, related: { type: 'ip', value: '23.194.131.195' } },
      { origin, relation: 'Resolved_To', source: DOMAIN, related: { type: 'ipv6', value: '2606:4700:0000:0000:0000:0000:6810:2548' } },
      { origin, relation: 'Resolved_To', source: DOMAIN, related: { type: 'ipv6', value: '2606:4700:0000:0000:0000:0000:6810:2648' } },
    ]);
  });

  test('ip: the domains of its reverse DNS and passive records Resolved_To it', () => {
    const result = mapResolutions(IP, parseResolutions(load('ip-resolve.json')), OPTIONS);
    const sighting = sightings(result)[0]!;
    assert.equal(sighting.title, 'DNS Information');
    assert.equal(sighting.description, 'Domains that have resolved to 198.51.100.23');
    assert.deepEqual(
      (sighting.relations as { source: unknown; related: unknown; relation: string }[]).map((relation) => [relation.relation, relation.source, relation.related]),
      [
        ['Resolved_To', { type: 'domain', value: 'a.example.com' }, IP],
        ['Resolved_To', { type: 'domain', value: 'b.example.com' }, IP],
        ['Resolved_To', { type: 'domain', value: 'c.example.org' }, IP],
      ],
    );
  });

  test('ipv6: reverse DNS and passive AAAA records', () => {
    const result = mapResolutions(IPV6, parseResolutions(load('ipv6-resolve.json')), OPTIONS);
    const relations = sightings(result)[0]!.relations as { source: { value: string }; related: unknown }[];
    assert.deepEqual(
      relations.map((relation) => relation.source.value),
      ['mail.example.net', 'v6.example.net'],
    );
    assert.deepEqual(relations[0]!.related, IPV6);
  });

  test('nothing resolved, or only values invalid for their type: no sighting', () => {
    assert.deepEqual(mapResolutions(DOMAIN, parseResolutions({ A: [], AAAA: [], Passive: { records: [] } }), OPTIONS), {});
    const result = mapResolutions(DOMAIN, parseResolutions({ A: ['not an address', '192.0.2.1'] }), OPTIONS);
    assert.deepEqual(
      (sightings(result)[0]!.relations as { related: unknown }[]).map((relation) => relation.related),
      [{ type: 'ip', value: '192.0.2.1' }],
    );
    assert.deepEqual(mapResolutions(IP, parseResolutions({ RDNS: ['no spaces allowed.com x'] }), OPTIONS), {});
  });
});

describe('collections', () => {
  const result = mapCollections(IP, parseCollections(load('ip-linkage.json')), OPTIONS);
  const owned = 'https://exchange.xforce.example/collection/Incident%202021%2F04%20C2-9a1b2c3d4e5f60718293a4b5c6d7e8f9';

  test('a sighting per collection, newest first, internal when owned', () => {
    assert.deepEqual(titles(sightings(result)), [
      'Contained in Collection: Incident 2021/04 C2',
      'Contained in Collection: Phishing & Spam',
      'Contained in Collection: NVSP_2019-04-11',
    ]);
    assert.deepEqual(
      sightings(result).map((sighting) => sighting.internal),
      [true, false, false],
    );
    const first = sightings(result)[0]!;
    assert.deepEqual(first.observed_time, { start_time: '2021-04-02T08:15:00.000Z', end_time: '2021-04-02T08:15:00.000Z' });
    assert.equal(first.source_uri, owned);
    assert.deepEqual(first.external_ids, ['9a1b2c3d4e5f60718293a4b5c6d7e8f9']);
    assert.deepEqual(first.external_references, [{ source_name: DISPLAY_NAME, external_id: '9a1b2c3d4e5f60718293a4b5c6d7e8f9', url: owned }]);
    assert.deepEqual(first.observables, [IP]);
    assert.equal(first.confidence, 'High');
    assert.equal(first.count, 1);
    assert.equal(sightings(result)[1]?.source_uri, `${UI}collection/Phishing%20%26%20Spam-0777fb2ca2d2a93ccc01e1325b206c98`);
  });

  test('the collection as an indicator: stable id, the owner as producer', () => {
    const found = indicators(result);
    assert.deepEqual(titles(found), ['Incident 2021/04 C2', 'Phishing & Spam', 'NVSP_2019-04-11']);
    assert.deepEqual(
      found.map((indicator) => indicator.producer),
      ['SOC Team', 'Jonas Winzen (IBM)', 'Er. Tapan Jatakia'],
    );
    assert.equal(found[0]?.id, stableId('indicator', DISPLAY_NAME, 'collection', '9a1b2c3d4e5f60718293a4b5c6d7e8f9'));
    assert.deepEqual(found[1]?.valid_time, { start_time: '2020-11-17T02:37:31.837Z' });
    assert.equal(found[0]?.source_uri, owned);
    const again = mapCollections(DOMAIN, parseCollections(load('ip-linkage.json')), OPTIONS);
    assert.deepEqual(
      indicators(again).map((indicator) => indicator.id),
      found.map((indicator) => indicator.id),
    );
  });

  test('member-of from each sighting to its collection', () => {
    assert.deepEqual(
      pairs(result),
      sightings(result).map((sighting, index) => ['member-of', sighting.id, indicators(result)[index]!.id]),
    );
  });

  test('linked entities that are not collections are left out', () => {
    const files = mapCollections(MD5, parseCollections(load('malware-linkage.json')), OPTIONS);
    assert.deepEqual(titles(indicators(files)), ['WannaCry', 'WCry2 Ransomware Outbreak']);
    assert.deepEqual(
      sightings(files).map((sighting) => sighting.internal),
      [false, false],
    );
  });
});

describe('changed answers are a key error', () => {
  test('url report without result.score', () => assertKeyError(() => parseReport('url', load('url-report-changed.json'))));
  test('ip report without score', () => assertKeyError(() => parseReport('ip', { cats: { Spam: 43 } })));
  test('ip category that is not a number', () => assertKeyError(() => parseReport('ip', { score: 1, cats: { Spam: 'high' } })));
  test('malware report without malware', () => assertKeyError(() => parseReport('malware', { tags: [] })));
  test('collection without owner', () => assertKeyError(() => parseCollections(load('linkage-changed.json'))));
  test('collection with an unreadable date', () =>
    assertKeyError(() => parseCollections({ linkedEntities: [{ id: 'x', title: 't', created: 'yesterday', owner: { name: 'o' }, type: 'casefile' }] })));
  test('resolve answer whose records are not a list', () => assertKeyError(() => parseResolutions({ Passive: { records: 'none' } })));
  test('a missing linkedEntities list is no collection', () => assert.deepEqual(parseCollections({}), []));
});

describe('one observation and the entities limit', () => {
  const observation = {
    report: report(IP, 'ip-report.json'),
    resolutions: parseResolutions(load('ip-resolve.json')),
    collections: parseCollections(load('ip-linkage.json')),
  };
  const map = (entitiesLimit: number): ObservableResult => mapObservation(IP, observation, { ...OPTIONS, entitiesLimit });

  test('everything, with the default limit', () => {
    const result = map(100);
    assert.equal(result.verdicts?.length, 1);
    assert.deepEqual(titles(sightings(result)), [
      'Botnet Command and Control Server',
      'Scanning IPs',
      'Spam',
      'DNS Information',
      'Contained in Collection: Incident 2021/04 C2',
      'Contained in Collection: Phishing & Spam',
      'Contained in Collection: NVSP_2019-04-11',
    ]);
    assert.equal(indicators(result).length, 6);
    assert.equal(judgements(result).length, 3);
    assert.deepEqual(
      relationships(result).map((rel) => rel.relationship_type),
      ['based-on', 'based-on', 'based-on', 'based-on', 'based-on', 'based-on', 'member-of', 'member-of', 'member-of'],
    );
    assertRelationshipsJoinPresentEntities(result);
  });

  test('limit 1: one of each type, the relationships between them kept', () => {
    const result = map(1);
    assert.equal(result.verdicts?.length, 1);
    assert.deepEqual(titles(sightings(result)), ['Botnet Command and Control Server']);
    assert.deepEqual(titles(indicators(result)), ['Botnet Command and Control Server']);
    assert.deepEqual(
      judgements(result).map((judgement) => judgement.reason),
      ['Botnet Command and Control Server'],
    );
    assert.deepEqual(pairs(result), [
      ['based-on', sightings(result)[0]!.id, judgements(result)[0]!.id],
      ['based-on', judgements(result)[0]!.id, indicators(result)[0]!.id],
    ]);
  });

  test('limit 2', () => {
    const result = map(2);
    assert.deepEqual(titles(sightings(result)), ['Botnet Command and Control Server', 'Scanning IPs']);
    assert.deepEqual(titles(indicators(result)), ['Botnet Command and Control Server', 'Scanning IPs']);
    assert.equal(judgements(result).length, 2);
    assert.equal(relationships(result).length, 4);
    assertRelationshipsJoinPresentEntities(result);
  });

  test('limit 5: the newest collection makes it, the older ones do not', () => {
    const result = map(5);
    assert.deepEqual(titles(sightings(result)), [
      'Botnet Command and Control Server',
      'Scanning IPs',
      'Spam',
      'DNS Information',
      'Contained in Collection: Incident 2021/04 C2',
    ]);
    assert.deepEqual(titles(indicators(result)), [
      'Botnet Command and Control Server',
      'Scanning IPs',
      'Spam',
      'Incident 2021/04 C2',
      'Phishing & Spam',
    ]);
    assert.equal(judgements(result).length, 3);
    // Six based-on and the member-of of the newest collection; none points at a dropped entity.
    assert.equal(relationships(result).length, 7);
    assertRelationshipsJoinPresentEntities(result);
  });

  test('nothing known: an empty result', () => {
    assert.deepEqual(mapObservation(URL_OBSERVABLE, {}, { ...OPTIONS, entitiesLimit: 100 }), {});
  });

  test('domain with limit 1 keeps its one judgement, so the verdict still points at it', () => {
    const result = mapObservation(
      DOMAIN,
      {
        report: report(DOMAIN, 'domain-report.json'),
        resolutions: parseResolutions(load('domain-resolve.json')),
        collections: parseCollections(load('url-linkage.json')),
      },
      { ...OPTIONS, entitiesLimit: 1 },
    );
    assert.equal(result.verdicts?.[0]?.judgement_id, judgements(result)[0]?.id);
    assert.deepEqual(titles(sightings(result)), ['General Business']);
    assert.deepEqual(pairs(result), [['sighting-of', sightings(result)[0]!.id, indicators(result)[0]!.id]]);
  });
});

describe('deliberate', () => {
  test('only the verdict, without a judgement id', () => {
    const verdict = mapVerdict(URL_OBSERVABLE, report(URL_OBSERVABLE, 'url-report.json'), OPTIONS);
    assert.deepEqual(verdict, {
      type: 'verdict',
      disposition: 2,
      disposition_name: 'Malicious',
      observable: URL_OBSERVABLE,
      valid_time: { start_time: NOW_TEXT, end_time: IN_30_DAYS },
    });
  });
});

describe('refer', () => {
  const cases: [Observable, string, string][] = [
    [IP, 'IP', `${UI}ip/198.51.100.23`],
    [{ type: 'ipv6', value: '2001:db8::1' }, 'IPv6', `${UI}ip/2001%3Adb8%3A%3A1`],
    [DOMAIN, 'domain', `${UI}url/ibm.com`],
    [{ type: 'url', value: 'http://example.com/a?b=1&c=2#top' }, 'URL', `${UI}url/http%3A%2F%2Fexample.com%2Fa%3Fb%3D1%26c%3D2%23top`],
    [MD5, 'MD5', `${UI}malware/${MD5.value}`],
    [SHA1, 'SHA1', `${UI}malware/${SHA1.value}`],
    [SHA256, 'SHA256', `${UI}malware/${SHA256.value}`],
  ];
  for (const [observable, name, url] of cases) {
    test(`${observable.type}: search link`, () => {
      assert.deepEqual(referLink(UI, observable), {
        id: `ref-ibm-xforce-exchange-search-${observable.type}-${observable.value}`,
        title: `Search for this ${name}`,
        description: `Lookup this ${name} on IBM X-Force Exchange`,
        url,
        categories: ['Search', 'IBM X-Force Exchange'],
      });
    });
  }
  test('a UI base with a path keeps it', () => {
    assert.equal(referLink('https://proxy.example/xforce/', IP).url, 'https://proxy.example/xforce/ip/198.51.100.23');
  });
});
