// The OTX mapping straight from the recorded fixtures, field by field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CTIM_SCHEMA_VERSION, stableId } from '../../core/ctim.js';
import { RelayError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import { fixture } from '../../../test/helpers/fake-upstream.js';
import { parseGeneralAnswer, parsePulseIndicatorsPage, type Pulse, type PulseIndicator } from './answers.js';
import { generalSection, mapPulseFindings, matchesObservable, pulseUrl, pulsesHoldingObservable, type PulseFinding } from './mapping.js';
import { referLinks } from './refer.js';
import { KNOWN, PULSES } from './test-support/fixture-handler.js';

const BASE = 'https://otx.alienvault.com/';
const load = (name: string): unknown => fixture(import.meta.url, name);
const ip: Observable = { type: 'ip', value: KNOWN.ip };
const KEY_ERROR = { code: 'key error', message: 'The data structure of AlienVault OTX has changed. The module is broken.' };

function ipPulses(): Record<string, Pulse> {
  const pulses = parseGeneralAnswer(load('general-ip.json')).pulses;
  return Object.fromEntries(pulses.map((pulse) => [pulse.id, pulse]));
}

function entryFor(page: string, value: string): PulseIndicator {
  const found = parsePulseIndicatorsPage(load(page)).results.find((entry) => entry.indicator === value);
  assert.ok(found, `${value} is on ${page}`);
  return found;
}

/** The IP's pulses as the search leaves them with the test's call budget: two found, one not. */
function ipFindings(): PulseFinding[] {
  const pulses = ipPulses();
  return [
    { pulse: pulses[PULSES.honeypot]!, indicator: entryFor('pulse-honeypot-page-1.json', KNOWN.ip) },
    { pulse: pulses[PULSES.scanner]!, indicator: undefined },
    { pulse: pulses[PULSES.emotet]!, indicator: entryFor('pulse-emotet-page-2.json', KNOWN.ip) },
  ];
}

describe('OTX answers', () => {
  test('general: the base type and every listed pulse', () => {
    const answer = parseGeneralAnswer(load('general-ip.json'));
    assert.equal(answer.baseIndicatorType, 'IPv4');
    assert.deepEqual(
      answer.pulses.map((pulse) => pulse.id),
      [PULSES.phishing, PULSES.emotet, PULSES.scanner, PULSES.honeypot],
    );
    const emotet = answer.pulses[1]!;
    assert.equal(emotet.name, 'Emotet epoch 5 C2 infrastructure');
    assert.equal(emotet.author.username, 'threat-research-lab');
    assert.deepEqual(emotet.tags, ['emotet', 'c2', 'botnet']);
    assert.equal(emotet.TLP, 'green');
  });

  test('general of an unknown value: no pulse and no base type, not an error', () => {
    const answer = parseGeneralAnswer(load('general-unknown.json'));
    assert.deepEqual(answer, { baseIndicatorType: undefined, pulses: [] });
    assert.deepEqual(pulsesHoldingObservable(answer), []);
  });

  test('a changed general answer is a key error', () => {
    assert.throws(() => parseGeneralAnswer(load('general-changed-shape.json')), KEY_ERROR);
    assert.throws(() => parseGeneralAnswer(null), RelayError);
    const withoutType = { ...(load('general-ip.json') as object), base_indicator: {} };
    assert.throws(() => parseGeneralAnswer(withoutType), KEY_ERROR);
    const general = load('general-ip.json') as { pulse_info: { pulses: Record<string, unknown>[] } };
    delete general.pulse_info.pulses[1]!.author;
    assert.throws(() => parseGeneralAnswer(general), KEY_ERROR);
  });

  test('pulse indicator pages: entries and whether a next page exists', () => {
    const first = parsePulseIndicatorsPage(load('pulse-emotet-page-1.json'));
    assert.equal(first.hasNext, true);
    assert.deepEqual(first.results[0], { indicator: '198.51.100.77', created: '2023-08-02T09:10:00', expiration: '2023-09-01T09:00:00' });
    const last = parsePulseIndicatorsPage(load('pulse-multi-type-page-1.json'));
    assert.equal(last.hasNext, false);
    assert.equal(last.results.length, 7);
    assert.throws(() => parsePulseIndicatorsPage({ count: 0, next: null }), KEY_ERROR);
    assert.throws(() => parsePulseIndicatorsPage({ results: [{ indicator: 'x' }], next: null }), KEY_ERROR);
  });
});

describe('which pulses are searched', () => {
  test('pulses whose indicator types lack the base type are dropped; the rest newest-modified first', () => {
    const pulses = pulsesHoldingObservable(parseGeneralAnswer(load('general-ip.json')));
    assert.deepEqual(
      pulses.map((pulse) => pulse.id),
      [PULSES.honeypot, PULSES.scanner, PULSES.emotet],
    );
  });

  test('every type has its general section; email has none', () => {
    const sections = Object.fromEntries(
      (['ip', 'ipv6', 'domain', 'url', 'md5', 'sha1', 'sha256', 'email'] as const).map((type) => [type, generalSection({ type, value: 'x' })]),
    );
    assert.deepEqual(sections, { ip: 'IPv4', ipv6: 'IPv6', domain: 'domain', url: 'url', md5: 'file', sha1: 'file', sha256: 'file', email: undefined });
  });

  test('hashes, domains and ipv6 match whatever their case; urls exactly', () => {
    assert.equal(matchesObservable({ type: 'md5', value: KNOWN.md5.toUpperCase() }, KNOWN.md5), true);
    assert.equal(matchesObservable({ type: 'domain', value: 'CDN-Update.Example.NET' }, KNOWN.domain), true);
    assert.equal(matchesObservable({ type: 'ipv6', value: KNOWN.ipv6.toUpperCase() }, KNOWN.ipv6), true);
    assert.equal(matchesObservable({ type: 'url', value: KNOWN.url }, KNOWN.url), true);
    assert.equal(matchesObservable({ type: 'url', value: KNOWN.url.replace('gate', 'GATE') }, KNOWN.url), false);
    assert.equal(matchesObservable(ip, '203.0.113.4'), false);
  });
});

describe('pulses → CTIM', () => {
  test('a pulse found with its expiration: indicator, sighting and member-of, field by field', () => {
    const [, , emotet] = ipFindings();
    const result = mapPulseFindings(ip, [emotet!], { baseUrl: BASE, entitiesLimit: 100 });
    const [indicator] = result.indicators!;
    const [sighting] = result.sightings!;
    const [relationship] = result.relationships!;
    const sourceUri = `https://otx.alienvault.com/pulse/${PULSES.emotet}`;
    assert.deepEqual(indicator, {
      id: stableId('indicator', 'otx-pulse', PULSES.emotet),
      type: 'indicator',
      schema_version: CTIM_SCHEMA_VERSION,
      producer: 'threat-research-lab',
      valid_time: { start_time: '2023-07-19T14:02:11.000Z', end_time: '2023-08-18T14:00:00.000Z' },
      source: 'AlienVault OTX',
      source_uri: sourceUri,
      external_ids: [PULSES.emotet],
      title: 'Emotet epoch 5 C2 infrastructure',
      tlp: 'green',
      confidence: 'High',
      short_description: 'Command-and-control servers contacted by Emotet loaders in July 2023.',
      tags: ['emotet', 'c2', 'botnet'],
    });
    assert.match(sighting!.id, /^transient:sighting-[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...sighting, id: 'x' },
      {
        id: 'x',
        type: 'sighting',
        schema_version: CTIM_SCHEMA_VERSION,
        count: 1,
        confidence: 'High',
        observed_time: { start_time: '2023-07-19T14:02:11.000Z', end_time: '2023-07-19T14:02:11.000Z' },
        source: 'AlienVault OTX',
        source_uri: sourceUri,
        external_ids: [PULSES.emotet],
        title: 'Emotet epoch 5 C2 infrastructure',
        tlp: 'green',
        description: 'Command-and-control servers contacted by Emotet loaders in July 2023.',
        internal: false,
        observables: [{ type: 'ip', value: KNOWN.ip }],
      },
    );
    assert.match(relationship!.id, /^transient:relationship-[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...relationship, id: 'x' },
      {
        id: 'x',
        type: 'relationship',
        schema_version: CTIM_SCHEMA_VERSION,
        relationship_type: 'member-of',
        source_ref: sighting!.id,
        target_ref: indicator!.id,
        source: 'AlienVault OTX',
      },
    );
  });

  test('a pulse found without expiration and description: open validity, empty descriptions, no tags', () => {
    const [honeypot] = ipFindings();
    const result = mapPulseFindings(ip, [honeypot!], { baseUrl: BASE, entitiesLimit: 100 });
    const indicator = result.indicators![0]!;
    const sighting = result.sightings![0]!;
    assert.deepEqual(indicator.valid_time, { start_time: '2024-01-12T00:00:07.000Z' });
    assert.equal(indicator.producer, 'honeynet-feeds');
    assert.equal(indicator.short_description, '');
    assert.deepEqual(indicator.tags, []);
    assert.equal(indicator.tlp, 'white');
    assert.deepEqual(sighting.observed_time, { start_time: '2024-01-12T00:00:07.000Z', end_time: '2024-01-12T00:00:07.000Z' });
    assert.equal(sighting.description, '');
    assert.equal(sighting.title, 'SSH brute force sources - honeypot network');
  });

  test('a pulse not found within the budget keeps its sighting and indicator, with the pulse’s own times', () => {
    const [, scanner] = ipFindings();
    const result = mapPulseFindings(ip, [scanner!], { baseUrl: BASE, entitiesLimit: 100 });
    assert.deepEqual(result.sightings![0]!.observed_time, { start_time: '2020-08-07T18:20:28.512Z', end_time: '2023-11-30T02:00:13.930Z' });
    assert.deepEqual(result.indicators![0]!.valid_time, { start_time: '2020-08-07T18:20:28.512Z' });
    assert.equal(result.indicators![0]!.id, stableId('indicator', 'otx-pulse', PULSES.scanner));
    assert.equal(result.indicators![0]!.producer, 'AlienVault');
    assert.equal(result.relationships!.length, 1);
  });

  test('newest first, capped by the entities limit; relationships only between kept entities', () => {
    const all = mapPulseFindings(ip, ipFindings(), { baseUrl: BASE, entitiesLimit: 100 });
    assert.deepEqual(
      all.sightings!.map((sighting) => sighting.observed_time.start_time),
      ['2024-01-12T00:00:07.000Z', '2023-07-19T14:02:11.000Z', '2020-08-07T18:20:28.512Z'],
    );
    const capped = mapPulseFindings(ip, ipFindings(), { baseUrl: BASE, entitiesLimit: 2 });
    assert.deepEqual(
      capped.indicators!.map((indicator) => indicator.external_ids),
      [[PULSES.honeypot], [PULSES.emotet]],
    );
    assert.equal(capped.sightings!.length, 2);
    assert.equal(capped.relationships!.length, 2);
    const ids = new Set([...capped.sightings!, ...capped.indicators!].map((entity) => entity.id));
    for (const relationship of capped.relationships!) {
      assert.ok(ids.has(relationship.source_ref) && ids.has(relationship.target_ref));
    }
    // Each relationship joins a sighting to the indicator of the same pulse.
    for (const relationship of capped.relationships!) {
      const sighting = capped.sightings!.find((entity) => entity.id === relationship.source_ref)!;
      const indicator = capped.indicators!.find((entity) => entity.id === relationship.target_ref)!;
      assert.deepEqual(sighting.external_ids, indicator.external_ids);
    }
  });

  test('the same pulse has the same indicator id for every observable and every request', () => {
    const first = mapPulseFindings(ip, ipFindings(), { baseUrl: BASE, entitiesLimit: 100 });
    const second = mapPulseFindings(ip, ipFindings(), { baseUrl: BASE, entitiesLimit: 100 });
    assert.deepEqual(
      first.indicators!.map((indicator) => indicator.id),
      second.indicators!.map((indicator) => indicator.id),
    );
    assert.notEqual(first.sightings![0]!.id, second.sightings![0]!.id);
  });

  const createdByType = {
    ipv6: ['2023-10-10T11:46:12.000Z', '2023-11-09T11:00:00.000Z'],
    url: ['2023-10-09T08:20:02.000Z', undefined],
    domain: ['2023-10-09T08:19:44.000Z', undefined],
    sha256: ['2023-10-09T08:16:31.000Z', undefined],
    sha1: ['2023-10-09T08:16:30.000Z', undefined],
    md5: ['2023-10-09T08:16:29.000Z', undefined],
  } as const;
  for (const [type, [created, expiration]] of Object.entries(createdByType)) {
    test(`${type} in the multi-type pulse, from its general answer and page`, () => {
      const observable: Observable = { type: type as Observable['type'], value: KNOWN[type as keyof typeof KNOWN] };
      const pulses = pulsesHoldingObservable(parseGeneralAnswer(load(`general-${type}.json`)));
      assert.deepEqual(
        pulses.map((pulse) => pulse.id),
        [PULSES.multiType],
      );
      const entry = parsePulseIndicatorsPage(load('pulse-multi-type-page-1.json')).results.find((candidate) =>
        matchesObservable(observable, candidate.indicator),
      );
      const result = mapPulseFindings(observable, [{ pulse: pulses[0]!, indicator: entry }], { baseUrl: BASE, entitiesLimit: 100 });
      const sighting = result.sightings![0]!;
      assert.deepEqual(sighting.observables, [{ type, value: observable.value }]);
      assert.deepEqual(sighting.observed_time, { start_time: created, end_time: created });
      assert.deepEqual(result.indicators![0]!.valid_time, expiration === undefined ? { start_time: created } : { start_time: created, end_time: expiration });
      assert.equal(result.indicators![0]!.tlp, 'amber');
      assert.deepEqual(result.indicators![0]!.tags, ['cobalt strike', 'loader', 'maldoc']);
      assert.equal(result.indicators![0]!.producer, 'sec-ops-intel');
    });
  }

  test('titles, descriptions and tags are kept within CTIM bounds; an unknown TLP is left out', () => {
    const [, , emotet] = ipFindings();
    const pulse: Pulse = { ...emotet!.pulse, name: 'n'.repeat(2000), description: 'd'.repeat(6000), tags: ['t'.repeat(1500)], TLP: 'purple' };
    const result = mapPulseFindings(ip, [{ ...emotet!, pulse }], { baseUrl: BASE, entitiesLimit: 100 });
    const indicator = result.indicators![0]!;
    const sighting = result.sightings![0]!;
    assert.equal((indicator.title as string).length, 1024);
    assert.equal((indicator.short_description as string).length, 2048);
    assert.equal((indicator.tags as string[])[0]!.length, 1024);
    assert.equal((sighting.description as string).length, 5000);
    assert.equal('tlp' in indicator, false);
    assert.equal('tlp' in sighting, false);
  });

  test('an unreadable time is a key error', () => {
    const [honeypot] = ipFindings();
    assert.throws(
      () => mapPulseFindings(ip, [{ ...honeypot!, indicator: { ...honeypot!.indicator!, created: 'yesterday' } }], { baseUrl: BASE, entitiesLimit: 100 }),
      KEY_ERROR,
    );
  });

  test('nothing found, nothing mapped', () => {
    assert.deepEqual(mapPulseFindings(ip, [], { baseUrl: BASE, entitiesLimit: 100 }), { indicators: [], sightings: [], relationships: [] });
  });

  test('pulse links are made of the base without its trailing slash and the encoded id', () => {
    assert.equal(pulseUrl('https://otx.example/', 'a/b?c'), 'https://otx.example/pulse/a%2Fb%3Fc');
  });
});

describe('refer', () => {
  const cases: [Observable, string, string][] = [
    [{ type: 'domain', value: KNOWN.domain }, 'domain', `domain/${KNOWN.domain}`],
    [{ type: 'email', value: 'billing@invoices.example.com' }, 'email', 'email/billing@invoices.example.com'],
    [{ type: 'md5', value: KNOWN.md5 }, 'MD5', `file/${KNOWN.md5}`],
    [{ type: 'sha1', value: KNOWN.sha1 }, 'SHA1', `file/${KNOWN.sha1}`],
    [{ type: 'sha256', value: KNOWN.sha256 }, 'SHA256', `file/${KNOWN.sha256}`],
    [{ type: 'ip', value: KNOWN.ip }, 'IP', `ip/${KNOWN.ip}`],
    [{ type: 'ipv6', value: KNOWN.ipv6 }, 'IPv6', `ip/${KNOWN.ipv6}`],
    [{ type: 'url', value: KNOWN.url }, 'URL', 'url/http:%2F%2Fcdn-update.example.net%2Fgate.php%3Fid%3D7%26campaign%3Doct'],
  ];
  for (const [observable, name, path] of cases) {
    test(`${observable.type} links to its OTX page`, () => {
      assert.deepEqual(referLinks(BASE, observable), [
        {
          id: `ref-avotx-search-${observable.type}-${encodeURIComponent(observable.value)}`,
          title: `Search for this ${name}`,
          description: `Lookup this ${name} on AlienVault OTX`,
          url: `https://otx.alienvault.com/indicator/${path}`,
          categories: ['Search', 'AlienVault OTX'],
        },
      ]);
    });
  }
});
