import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureText } from '../../../test/helpers/fake-upstream.js';
import { CTIM_SCHEMA_VERSION, type Indicator, type Relationship, type Sighting } from '../../core/ctim.js';
import { RelayError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import { parseLookupAnswer } from './lookup-answer.js';
import { confidenceLevel, feedIndicatorId, longestSource, mapRecords } from './mapping.js';

const folder = new URL('./', import.meta.url);
const records = (name: string) => parseLookupAnswer(fixtureText(folder, name));

const ORIGIN = 'C1fApp Enrichment Module';
const domain: Observable = { type: 'domain', value: 'secure-login.example.com' };
const SIGHTING_ID = /^transient:sighting-[0-9a-f-]{36}$/;
const INDICATOR_ID = /^transient:indicator-[0-9a-f-]{36}$/;
const RELATIONSHIP_ID = /^transient:relationship-[0-9a-f-]{36}$/;

function assertKeyError(run: () => unknown): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof RelayError);
    assert.equal(error.code, 'key error');
    assert.equal(error.message, 'The data structure of C1fApp has changed. The module is broken.');
    return true;
  });
}

describe('confidenceLevel', () => {
  test('maps the 0–100 bands to Low, Medium and High', () => {
    const cases: [number | string, string][] = [
      [0, 'Low'],
      [25, 'Low'],
      [26, 'Medium'],
      [79, 'Medium'],
      [80, 'High'],
      [100, 'High'],
      ['95', 'High'],
      [' 40 ', 'Medium'],
    ];
    for (const [value, level] of cases) assert.equal(confidenceLevel(value), level, `confidence ${JSON.stringify(value)}`);
  });

  test('anything outside 0–100 or not a number is Unknown', () => {
    for (const value of [101, -1, 'n/a', '', Number.NaN]) assert.equal(confidenceLevel(value), 'Unknown', `confidence ${String(value)}`);
  });
});

describe('longestSource', () => {
  test('takes the longest of the comma-separated URLs, trimmed', () => {
    assert.equal(longestSource('http://a.example/, http://a.example/detail?id=1 ,http://b.example/x'), 'http://a.example/detail?id=1');
  });
  test('is undefined when nothing is listed', () => {
    assert.equal(longestSource(''), undefined);
    assert.equal(longestSource(' , '), undefined);
  });
});

describe('parseLookupAnswer', () => {
  test('the two plain-text "nothing known" answers give no records', () => {
    assert.deepEqual(records('unsupported-request.txt'), []);
    assert.deepEqual(records('empty-search.txt'), []);
    assert.deepEqual(parseLookupAnswer('"Empty Search! Available search: IPv4/URL/Domain"\n'), []);
  });

  test('an empty list is no records', () => {
    assert.deepEqual(parseLookupAnswer('[]'), []);
  });

  test('reads the fields the mapping uses from the real answer shape', () => {
    const [first] = records('url-record.json');
    assert.deepEqual(first, {
      feedLabel: 'Phishtank',
      reportedAt: new Date('2020-04-12T00:00:00.000Z'),
      confidence: 95,
      sources: 'http://www.phishtank.com/phish_detail.php?phish_id=62',
      assessments: ['phishing'],
      domains: ['onedrive.example.com'],
      addresses: ['https://onedrive.example.com/?authkey=%21AG7v3K%5Fv%5Fvmx0wU'],
      ipAddresses: ['192.0.2.13'],
    });
  });

  test('a lone string where a list is expected is taken as a one-item list', () => {
    const body = JSON.parse(fixtureText(folder, 'url-record.json')) as Record<string, unknown>[];
    body[0]!.reportime = '2021-02-03';
    const [record] = parseLookupAnswer(JSON.stringify(body));
    assert.equal(record?.reportedAt.toISOString(), '2021-02-03T00:00:00.000Z');
  });

  test('a record without confidence (a changed data structure) is a key error', () => {
    assertKeyError(() => records('changed-shape.json'));
  });

  test('an object instead of a list of records is a key error', () => {
    assertKeyError(() => records('not-a-list.json'));
  });

  test('any other text is a key error', () => {
    assertKeyError(() => parseLookupAnswer('Service temporarily down'));
    assertKeyError(() => parseLookupAnswer('"Some other sentence"'));
  });

  test('an unreadable reportime or an empty feed label is a key error', () => {
    const body = JSON.parse(fixtureText(folder, 'url-record.json')) as Record<string, unknown>[];
    assertKeyError(() => parseLookupAnswer(JSON.stringify([{ ...body[0], reportime: ['yesterday'] }])));
    assertKeyError(() => parseLookupAnswer(JSON.stringify([{ ...body[0], feed_label: [] }])));
    assertKeyError(() => parseLookupAnswer(JSON.stringify([{ ...body[0], confidence: [] }])));
  });
});

describe('mapRecords: several records from two feeds for a domain', () => {
  const result = mapRecords(records('domain-records.json'), domain, 100);
  const sightings = result.sightings ?? [];
  const indicators = result.indicators ?? [];
  const relationships = result.relationships ?? [];

  test('one sighting per record, newest first by reportime', () => {
    assert.equal(sightings.length, 5);
    assert.deepEqual(
      sightings.map((sighting) => sighting.observed_time.start_time),
      ['2020-08-03T00:00:00.000Z', '2020-07-30T00:00:00.000Z', '2020-07-26T00:00:00.000Z', '2020-07-04T00:00:00.000Z', '2020-07-03T00:00:00.000Z'],
    );
    assert.deepEqual(
      sightings.map((sighting) => sighting.confidence),
      ['High', 'High', 'Low', 'Medium', 'Medium'],
    );
  });

  test('the newest sighting, field by field', () => {
    const sighting = sightings[0] as Sighting;
    assert.match(sighting.id, SIGHTING_ID);
    assert.deepEqual(sighting, {
      id: sighting.id,
      type: 'sighting',
      schema_version: CTIM_SCHEMA_VERSION,
      count: 1,
      confidence: 'High',
      observed_time: { start_time: '2020-08-03T00:00:00.000Z', end_time: '2020-08-03T00:00:00.000Z' },
      source: 'C1fApp',
      source_uri: 'http://www.phishtank.com/phish_detail.php?phish_id=6555231',
      description: 'Seen on C1fApp feed',
      observables: [{ type: 'domain', value: 'secure-login.example.com' }],
      relations: [
        { origin: ORIGIN, relation: 'Resolved_To', source: { type: 'domain', value: 'secure-login.example.com' }, related: { type: 'ip', value: '203.0.113.10' } },
        { origin: ORIGIN, relation: 'Resolved_To', source: { type: 'domain', value: 'secure-login.example.com' }, related: { type: 'ip', value: '203.0.113.11' } },
        {
          origin: ORIGIN,
          relation: 'Contains',
          source: { type: 'url', value: 'https://secure-login.example.com/signin?session=%21AG7v3K%5Fv' },
          related: { type: 'domain', value: 'secure-login.example.com' },
        },
      ],
    });
  });

  test('a url on a subdomain Contains the domain; an MDL host-only record has only its IP', () => {
    assert.deepEqual(sightings[2]?.relations, [
      { origin: ORIGIN, relation: 'Resolved_To', source: { type: 'domain', value: 'secure-login.example.com' }, related: { type: 'ip', value: '203.0.113.11' } },
      {
        origin: ORIGIN,
        relation: 'Contains',
        source: { type: 'url', value: 'http://www.secure-login.example.com/account/verify' },
        related: { type: 'domain', value: 'secure-login.example.com' },
      },
    ]);
    assert.deepEqual(sightings[1]?.relations, [
      { origin: ORIGIN, relation: 'Resolved_To', source: { type: 'domain', value: 'secure-login.example.com' }, related: { type: 'ip', value: '203.0.113.10' } },
    ]);
    assert.equal(sightings[1]?.source_uri, 'http://www.malwaredomainlist.com');
  });

  test('an empty IP in the list gives no relation', () => {
    assert.deepEqual(sightings[4]?.relations, []);
  });

  test('one indicator per feed, newest feed first, with a stable id and a valid time from its earliest record', () => {
    assert.equal(indicators.length, 2);
    const [phishtank, mdl] = indicators as [Indicator, Indicator];
    assert.match(phishtank.id, INDICATOR_ID);
    assert.deepEqual(phishtank, {
      id: feedIndicatorId('Phishtank'),
      type: 'indicator',
      schema_version: CTIM_SCHEMA_VERSION,
      producer: 'C1fApp',
      valid_time: { start_time: '2020-07-26T00:00:00.000Z' },
      source: 'C1fApp',
      title: 'Feed: Phishtank',
      short_description: 'Phishtank',
      tags: ['phishing', 'credential theft'],
      confidence: 'High',
      tlp: 'white',
    });
    assert.deepEqual(mdl, {
      id: feedIndicatorId('MDL'),
      type: 'indicator',
      schema_version: CTIM_SCHEMA_VERSION,
      producer: 'C1fApp',
      valid_time: { start_time: '2020-07-03T00:00:00.000Z' },
      source: 'C1fApp',
      title: 'Feed: MDL',
      short_description: 'MDL',
      tags: ['malware'],
      confidence: 'High',
      tlp: 'white',
    });
  });

  test('feed indicator ids are the same in every request and differ between feeds', () => {
    const again = mapRecords(records('domain-records.json'), domain, 100);
    assert.deepEqual(
      again.indicators?.map((indicator) => indicator.id),
      indicators.map((indicator) => indicator.id),
    );
    assert.notEqual(feedIndicatorId('MDL'), feedIndicatorId('Phishtank'));
    assert.notEqual(again.sightings?.[0]?.id, sightings[0]?.id);
  });

  test('member-of from every sighting to its own feed\'s indicator', () => {
    assert.equal(relationships.length, 5);
    const feedOfSighting = ['Phishtank', 'MDL', 'Phishtank', 'MDL', 'MDL'];
    relationships.forEach((relationship: Relationship, index) => {
      assert.match(relationship.id, RELATIONSHIP_ID);
      assert.deepEqual(relationship, {
        id: relationship.id,
        type: 'relationship',
        schema_version: CTIM_SCHEMA_VERSION,
        relationship_type: 'member-of',
        source_ref: sightings[index]?.id,
        target_ref: feedIndicatorId(feedOfSighting[index]!),
        source: 'C1fApp',
      });
    });
  });

  test('no judgements or verdicts: C1fApp has no verdict data', () => {
    assert.equal(result.judgements, undefined);
    assert.equal(result.verdicts, undefined);
  });
});

describe('mapRecords: the entities limit', () => {
  test('keeps the newest records and only their feeds, and prunes relationships', () => {
    const result = mapRecords(records('domain-records.json'), domain, 1);
    assert.equal(result.sightings?.length, 1);
    assert.equal(result.sightings?.[0]?.observed_time.start_time, '2020-08-03T00:00:00.000Z');
    assert.deepEqual(result.indicators?.map((indicator) => indicator.title), ['Feed: Phishtank']);
    // The feed is still described by all its records in the answer.
    assert.deepEqual(result.indicators?.[0]?.valid_time, { start_time: '2020-07-26T00:00:00.000Z' });
    assert.deepEqual(
      result.relationships?.map((relationship) => [relationship.source_ref, relationship.target_ref]),
      [[result.sightings?.[0]?.id, feedIndicatorId('Phishtank')]],
    );
  });

  test('a limit of 2 keeps two sightings and both of their feeds', () => {
    const result = mapRecords(records('domain-records.json'), domain, 2);
    assert.deepEqual(
      result.sightings?.map((sighting) => sighting.observed_time.start_time),
      ['2020-08-03T00:00:00.000Z', '2020-07-30T00:00:00.000Z'],
    );
    assert.deepEqual(result.indicators?.map((indicator) => indicator.title), ['Feed: Phishtank', 'Feed: MDL']);
    assert.equal(result.relationships?.length, 2);
  });
});

describe('mapRecords: a url record whose address is a URL', () => {
  const url: Observable = { type: 'url', value: 'https://onedrive.example.com/?authkey=%21AG7v3K%5Fv%5Fvmx0wU' };
  const result = mapRecords(records('url-record.json'), url, 100);

  test('the sighting: the url Contains its domain and Resolved_To its IP (the seed\'s Hosted_By)', () => {
    const sighting = result.sightings?.[0] as Sighting;
    assert.match(sighting.id, SIGHTING_ID);
    assert.deepEqual(sighting, {
      id: sighting.id,
      type: 'sighting',
      schema_version: CTIM_SCHEMA_VERSION,
      count: 1,
      confidence: 'High',
      observed_time: { start_time: '2020-04-12T00:00:00.000Z', end_time: '2020-04-12T00:00:00.000Z' },
      source: 'C1fApp',
      source_uri: 'http://www.phishtank.com/phish_detail.php?phish_id=62',
      description: 'Seen on C1fApp feed',
      observables: [url],
      relations: [
        { origin: ORIGIN, relation: 'Contains', source: url, related: { type: 'domain', value: 'onedrive.example.com' } },
        { origin: ORIGIN, relation: 'Resolved_To', source: url, related: { type: 'ip', value: '192.0.2.13' } },
      ],
    });
  });

  test('one indicator and one member-of', () => {
    assert.deepEqual(result.indicators?.map((indicator) => [indicator.id, indicator.title, indicator.tags, indicator.confidence]), [
      [feedIndicatorId('Phishtank'), 'Feed: Phishtank', ['phishing'], 'High'],
    ]);
    assert.deepEqual(result.relationships?.map((relationship) => [relationship.relationship_type, relationship.source_ref, relationship.target_ref]), [
      ['member-of', result.sightings?.[0]?.id, feedIndicatorId('Phishtank')],
    ]);
  });
});

describe('mapRecords: an ip record', () => {
  const ip: Observable = { type: 'ip', value: '198.51.100.23' };
  const result = mapRecords(records('ip-record.json'), ip, 100);

  test('its domains Resolved_To the ip; the ip itself and blanks in `domain` are not domains', () => {
    const sighting = result.sightings?.[0] as Sighting;
    assert.deepEqual(sighting.relations, [
      { origin: ORIGIN, relation: 'Resolved_To', source: { type: 'domain', value: 'mailer.bad-sender.example.org' }, related: ip },
    ]);
    assert.equal(sighting.confidence, 'High');
    assert.equal(sighting.source_uri, 'http://www.spamhaus.org/query/bl?ip=198.51.100.23');
    assert.deepEqual(sighting.observed_time, { start_time: '2020-08-19T00:00:00.000Z', end_time: '2020-08-19T00:00:00.000Z' });
    assert.deepEqual(sighting.observables, [ip]);
  });

  test('the SpamHaus feed indicator', () => {
    const indicator = result.indicators?.[0] as Indicator;
    assert.equal(indicator.id, feedIndicatorId('SpamHaus'));
    assert.equal(indicator.title, 'Feed: SpamHaus');
    assert.deepEqual(indicator.tags, ['Spam']);
    assert.deepEqual(indicator.valid_time, { start_time: '2020-08-19T00:00:00.000Z' });
  });
});

describe('mapRecords: records with empty ip/domain lists', () => {
  const quiet: Observable = { type: 'domain', value: 'quiet.example.org' };
  const result = mapRecords(records('empty-lists.json'), quiet, 100);

  test('sightings without relations, and without source_uri when no source is given', () => {
    assert.equal(result.sightings?.length, 2);
    const [newer, older] = result.sightings as [Sighting, Sighting];
    assert.deepEqual(newer.relations, []);
    assert.deepEqual(older.relations, []);
    assert.equal('source_uri' in newer, false);
    assert.equal(older.source_uri, 'http://www.malwaredomainlist.com');
    assert.deepEqual([newer.confidence, older.confidence], ['Medium', 'Medium']);
  });

  test('an empty assessment gives an indicator without tags', () => {
    const phishtank = result.indicators?.find((indicator) => indicator.title === 'Feed: Phishtank');
    assert.deepEqual(phishtank?.tags, []);
    assert.equal(result.relationships?.length, 2);
  });
});

describe('mapRecords: nothing known', () => {
  test('no records give no entities at all', () => {
    assert.deepEqual(mapRecords(records('empty-search.txt'), domain, 100), {});
    assert.deepEqual(mapRecords(records('unsupported-request.txt'), domain, 100), {});
  });
});

describe('relations use only CTIM relation names and the plain-ASCII origin', () => {
  test('every fixture', () => {
    const cases: [string, Observable][] = [
      ['domain-records.json', domain],
      ['url-record.json', { type: 'url', value: 'https://onedrive.example.com/?authkey=%21AG7v3K%5Fv%5Fvmx0wU' }],
      ['ip-record.json', { type: 'ip', value: '198.51.100.23' }],
      ['empty-lists.json', { type: 'domain', value: 'quiet.example.org' }],
    ];
    let seen = 0;
    for (const [name, observable] of cases) {
      for (const sighting of mapRecords(records(name), observable, 100).sightings ?? []) {
        for (const relation of (sighting.relations ?? []) as { origin: string; relation: string }[]) {
          seen += 1;
          assert.ok(['Resolved_To', 'Contains'].includes(relation.relation), relation.relation);
          assert.equal(relation.origin, ORIGIN);
          assert.match(relation.origin, /^[\x20-\x7e]+$/);
        }
      }
    }
    assert.ok(seen >= 8);
  });
});
