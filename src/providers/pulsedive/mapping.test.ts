// The Pulsedive mapping, straight from the fixtures: every entity field by field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../../../test/helpers/fake-upstream.js';
import { CTIM_SCHEMA_VERSION, MAX_TITLE, stableId, type Indicator, type Sighting } from '../../core/ctim.js';
import { RelayError } from '../../core/errors.js';
import type { Observable } from '../../core/observables.js';
import { answerErrorText, isNotFoundError, parseInfoAnswer, parseLinksAnswer, type InfoAnswer, type LinksAnswer } from './answers.js';
import { activeDnsRelations, feedTitle, mapObservation, mapVerdict, verdictValidTime } from './mapping.js';
import { browseQuery } from './pages.js';
import { browseLink, searchLink } from './refer.js';
import { isRetired, pulsediveRiskToDisposition } from './risk.js';

const UI = 'https://pulsedive.com/';
const NOW = new Date('2020-04-15T12:00:00Z');
const options = { uiUrl: UI, now: NOW, entitiesLimit: 100 };

function info(name: string): InfoAnswer {
  return parseInfoAnswer(fixture(import.meta.url, name));
}
function links(name: string): LinksAnswer {
  return parseLinksAnswer(fixture(import.meta.url, name));
}
function isKeyError(error: unknown): boolean {
  return error instanceof RelayError && error.code === 'key error' && error.message === 'The data structure of Pulsedive has changed. The module is broken.';
}
function withoutId<T extends { id: string }>(entity: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = entity;
  return rest;
}
function byTitle<T extends { id: string; [field: string]: unknown }>(entities: readonly T[] | undefined, title: string): T {
  const found = (entities ?? []).find((entity) => entity.title === title);
  assert.ok(found, `no entity titled ${title}`);
  return found;
}

const domain: Observable = { type: 'domain', value: 'cdn-update.example.net' };

describe('the risk table', () => {
  const cases = [
    ['none', false, 'clean', 'None'],
    ['none', true, 'unknown', 'Unknown'],
    ['unknown', false, 'unknown', 'Unknown'],
    ['unknown', true, 'unknown', 'Unknown'],
    ['retired', false, 'unknown', 'Unknown'],
    ['low', false, 'suspicious', 'Low'],
    ['low', true, 'suspicious', 'Low'],
    ['medium', false, 'suspicious', 'Medium'],
    ['medium', true, 'suspicious', 'Medium'],
    ['high', false, 'malicious', 'High'],
    ['high', true, 'malicious', 'High'],
    ['critical', false, 'malicious', 'High'],
    ['Critical', true, 'malicious', 'High'],
  ] as const;
  for (const [risk, retired, disposition, severity] of cases) {
    test(`${risk}${retired ? ', retired' : ''} → ${disposition} / ${severity}`, () => {
      assert.deepEqual(pulsediveRiskToDisposition(risk, retired), { disposition, severity });
    });
  }

  test('a level outside the table is a changed data structure', () => {
    assert.throws(() => pulsediveRiskToDisposition('extreme', false), isKeyError);
    assert.throws(() => pulsediveRiskToDisposition('constructor', false), isKeyError);
  });

  test('retired is a reason (or true); null, empty and false are active', () => {
    assert.equal(isRetired('No recent activity'), true);
    assert.equal(isRetired(true), true);
    assert.equal(isRetired(1), true);
    assert.equal(isRetired(null), false);
    assert.equal(isRetired(undefined), false);
    assert.equal(isRetired(''), false);
    assert.equal(isRetired(0), false);
    assert.equal(isRetired(false), false);
  });
});

describe('verdicts of every fixture (each type, each risk level, retired and not)', () => {
  const cases = [
    ['info-ip-none.json', { type: 'ip', value: '192.0.2.53' }, 1, 'Clean', '2020-04-01T00:00:01.000Z', '2020-07-01T00:00:01.000Z'],
    ['info-ip-none-retired.json', { type: 'ip', value: '192.0.2.144' }, 5, 'Unknown', '2017-09-27T18:11:44.000Z', '2018-03-26T15:44:24.000Z'],
    ['info-domain-unknown.json', { type: 'domain', value: 'unseen.example.com' }, 5, 'Unknown', '2020-03-15T09:09:09.000Z', '2020-06-14T09:09:09.000Z'],
    ['info-domain-unknown-retired.json', { type: 'domain', value: 'gone.example.com' }, 5, 'Unknown', '2018-05-05T05:05:05.000Z', '2018-11-01T00:00:00.000Z'],
    ['info-ipv6-low.json', { type: 'ipv6', value: '2001:db8:10a:202::1159' }, 3, 'Suspicious', '2020-04-02T11:00:00.000Z', '2020-07-02T11:00:00.000Z'],
    ['info-ipv6-low-retired.json', { type: 'ipv6', value: '2001:db8::dead' }, 3, 'Suspicious', '2019-02-02T02:02:02.000Z', '2019-08-01T12:00:00.000Z'],
    ['info-domain-medium.json', domain, 3, 'Suspicious', '2020-03-31T14:47:36.000Z', '2020-06-30T14:47:36.000Z'],
    // Retired without a retirement stamp: the default validity.
    ['info-domain-medium-retired.json', { type: 'domain', value: 'parked.example.net' }, 3, 'Suspicious', '2020-03-31T14:47:36.000Z', '2020-06-30T14:47:36.000Z'],
    ['info-ip-high.json', { type: 'ip', value: '185.141.25.242' }, 2, 'Malicious', '2020-04-10T08:15:00.000Z', '2020-07-10T08:15:00.000Z'],
    ['info-url-high-retired.json', { type: 'url', value: 'https://login.example.com/verify' }, 2, 'Malicious', '2019-12-24T10:00:00.000Z', '2020-03-01T00:00:00.000Z'],
    ['info-url-critical.json', { type: 'url', value: 'http://files.example.org/dl/payload.exe?id=7&ref=mail' }, 2, 'Malicious', '2020-04-12T17:45:09.000Z', '2020-07-12T17:45:09.000Z'],
    ['info-url-critical-retired.json', { type: 'url', value: 'http://203.0.113.99/bins/mips' }, 2, 'Malicious', '2019-11-11T11:11:11.000Z', '2020-02-11T11:11:11.000Z'],
  ] as const;
  for (const [name, observable, disposition, dispositionName, start, end] of cases) {
    test(`${name}: ${dispositionName}, valid ${start} → ${end}`, () => {
      const answer = info(name);
      assert.deepEqual(mapVerdict(answer, observable, NOW), {
        verdicts: [
          { type: 'verdict', disposition, disposition_name: dispositionName, observable: { ...observable }, valid_time: { start_time: start, end_time: end } },
        ],
      });
      const observed = mapObservation(answer, undefined, observable, options);
      assert.equal(observed.verdicts?.[0]?.disposition, disposition);
      assert.equal(observed.judgements?.[0]?.disposition_name, dispositionName);
      assert.deepEqual(observed.judgements?.[0]?.valid_time, { start_time: start, end_time: end });
    });
  }

  test('an indicator never seen is valid from when it was added, else from now', () => {
    const answer = info('info-ip-none.json');
    assert.deepEqual(verdictValidTime({ ...answer, stamp_seen: null }, NOW), {
      start_time: '2017-10-04T01:20:55.000Z',
      end_time: '2018-01-03T01:20:55.000Z',
    });
    assert.deepEqual(verdictValidTime({ ...answer, stamp_seen: null, stamp_added: undefined }, NOW), {
      start_time: '2020-04-15T12:00:00.000Z',
      end_time: '2020-07-15T12:00:00.000Z',
    });
  });
});

describe('observe of a domain with risk factors, threats, feeds and Active DNS', () => {
  const result = mapObservation(info('info-domain-medium.json'), links('links-domain.json'), domain, options);
  const judgement = result.judgements?.[0];
  const validTime = { start_time: '2020-03-31T14:47:36.000Z', end_time: '2020-06-30T14:47:36.000Z' };
  const indicatorPage = 'https://pulsedive.com/indicator/?iid=3658835';

  test('one judgement', () => {
    assert.equal(result.judgements?.length, 1);
    assert.ok(judgement);
    assert.match(judgement.id, /^transient:judgement-[0-9a-f-]{36}$/);
    assert.deepEqual(withoutId(judgement), {
      type: 'judgement',
      schema_version: CTIM_SCHEMA_VERSION,
      source: 'Pulsedive',
      observable: domain,
      disposition: 3,
      disposition_name: 'Suspicious',
      confidence: 'Medium',
      priority: 85,
      severity: 'Medium',
      valid_time: validTime,
      tlp: 'white',
      source_uri: indicatorPage,
    });
  });

  test('one verdict pointing at the judgement', () => {
    assert.deepEqual(result.verdicts, [
      { type: 'verdict', disposition: 3, disposition_name: 'Suspicious', observable: domain, valid_time: validTime, judgement_id: judgement?.id },
    ]);
  });

  test('an indicator per risk factor, threat and feed', () => {
    assert.equal(result.indicators?.length, 5);
    const riskFactor = byTitle(result.indicators, 'found in threat feeds');
    assert.match(riskFactor.id, /^transient:indicator-/);
    assert.deepEqual(withoutId(riskFactor), {
      type: 'indicator',
      schema_version: CTIM_SCHEMA_VERSION,
      producer: 'Pulsedive',
      valid_time: validTime,
      title: 'found in threat feeds',
      short_description: 'found in threat feeds',
      source: 'Pulsedive',
      tlp: 'white',
    });
    assert.equal(byTitle(result.indicators, 'registration recently updated').short_description, 'registration recently updated');

    assert.deepEqual(byTitle(result.indicators, 'Threat: Kraken Botnet'), {
      id: stableId('indicator', 'Pulsedive', 'threat', 9),
      type: 'indicator',
      schema_version: CTIM_SCHEMA_VERSION,
      producer: 'Pulsedive',
      valid_time: { start_time: '2019-01-01T04:01:30.000Z' },
      title: 'Threat: Kraken Botnet',
      short_description: 'Threat: Kraken Botnet',
      tags: ['malware'],
      severity: 'High',
      source_uri: 'https://pulsedive.com/threat/?tid=9',
      source: 'Pulsedive',
      tlp: 'white',
    });
    const miner = byTitle(result.indicators, 'Threat: JS Crypto Miner');
    assert.equal(miner.id, stableId('indicator', 'Pulsedive', 'threat', 108));
    assert.deepEqual(miner.tags, ['abuse']);
    assert.equal(miner.severity, 'Medium');

    assert.deepEqual(byTitle(result.indicators, 'Feed: BBcan177 DNSBL'), {
      id: stableId('indicator', 'Pulsedive', 'feed', 13),
      type: 'indicator',
      schema_version: CTIM_SCHEMA_VERSION,
      producer: 'BBcan177',
      valid_time: { start_time: '2020-02-10T07:41:05.000Z' },
      title: 'Feed: BBcan177 DNSBL',
      short_description: 'Feed: BBcan177 DNSBL',
      tags: ['general'],
      source_uri: 'https://pulsedive.com/feed/?fid=13',
      source: 'Pulsedive',
      tlp: 'white',
    });
  });

  test('a sighting per risk factor, threat and feed, and one for Active DNS', () => {
    assert.equal(result.sightings?.length, 6);
    const common = { type: 'sighting', schema_version: CTIM_SCHEMA_VERSION, count: 1, confidence: 'Medium', observables: [domain], source: 'Pulsedive' };
    const seen = { start_time: '2020-03-31T14:47:36.000Z', end_time: '2020-03-31T14:47:36.000Z' };
    assert.deepEqual(withoutId(byTitle(result.sightings, 'found in threat feeds')), {
      ...common,
      observed_time: seen,
      title: 'found in threat feeds',
      description: 'found in threat feeds',
      severity: 'Medium',
      source_uri: indicatorPage,
    });
    assert.deepEqual(withoutId(byTitle(result.sightings, 'Threat: JS Crypto Miner')), {
      ...common,
      observed_time: { start_time: '2018-08-06T03:44:07.000Z', end_time: '2018-08-06T03:44:07.000Z' },
      title: 'Threat: JS Crypto Miner',
      description: 'Threat: JS Crypto Miner',
      severity: 'Medium',
      source_uri: 'https://pulsedive.com/threat/?tid=108',
    });
    assert.deepEqual(withoutId(byTitle(result.sightings, 'Feed: BBcan177 DNSBL')), {
      ...common,
      observed_time: { start_time: '2020-02-10T07:41:05.000Z', end_time: '2020-02-10T07:41:05.000Z' },
      title: 'Feed: BBcan177 DNSBL',
      description: 'Feed: BBcan177 DNSBL',
      source_uri: 'https://pulsedive.com/feed/?fid=13',
    });
    // Only the links seen in the last 90 days, and only ips (a url is not a resolution).
    assert.deepEqual(withoutId(byTitle(result.sightings, 'Active DNS')), {
      ...common,
      observed_time: seen,
      title: 'Active DNS',
      description: 'Active DNS',
      source_uri: indicatorPage,
      relations: [
        { origin: 'Pulsedive Enrichment Module', relation: 'Resolved_To', source: domain, related: { type: 'ip', value: '203.0.113.7' } },
        { origin: 'Pulsedive Enrichment Module', relation: 'Resolved_To', source: domain, related: { type: 'ipv6', value: '2001:db8::7' } },
      ],
    });
    for (const sighting of result.sightings ?? []) assert.match(sighting.id, /^transient:sighting-[0-9a-f-]{36}$/);
  });

  test('sightings of risk factors and threats, members of feeds; each joined to its own indicator', () => {
    const pairs = (result.relationships ?? []).map((relationship) => {
      const sighting = result.sightings?.find((item) => item.id === relationship.source_ref);
      const indicator = result.indicators?.find((item) => item.id === relationship.target_ref);
      assert.ok(sighting && indicator, 'both ends present');
      assert.equal(relationship.type, 'relationship');
      assert.equal(relationship.schema_version, CTIM_SCHEMA_VERSION);
      assert.equal(relationship.source, 'Pulsedive');
      assert.match(relationship.id, /^transient:relationship-/);
      return [sighting.title, relationship.relationship_type, indicator.title];
    });
    assert.deepEqual(
      pairs.sort(),
      [
        ['Feed: BBcan177 DNSBL', 'member-of', 'Feed: BBcan177 DNSBL'],
        ['Threat: JS Crypto Miner', 'sighting-of', 'Threat: JS Crypto Miner'],
        ['Threat: Kraken Botnet', 'sighting-of', 'Threat: Kraken Botnet'],
        ['found in threat feeds', 'sighting-of', 'found in threat feeds'],
        ['registration recently updated', 'sighting-of', 'registration recently updated'],
      ].sort(),
    );
  });
});

describe('Active DNS', () => {
  test('an ip is resolved to by its recent domains', () => {
    const ip: Observable = { type: 'ip', value: '185.141.25.242' };
    assert.deepEqual(activeDnsRelations(links('links-ip.json'), ip, NOW), [
      { origin: 'Pulsedive Enrichment Module', relation: 'Resolved_To', source: { type: 'domain', value: 'mail.example.org' }, related: ip },
    ]);
  });

  test('an ipv6 too', () => {
    const ipv6: Observable = { type: 'ipv6', value: '2001:db8::1' };
    assert.deepEqual(
      activeDnsRelations(links('links-ip.json'), ipv6, NOW).map((relation) => [relation.source.value, relation.related]),
      [['mail.example.org', ipv6]],
    );
  });

  test('the 90 days count back from the request time', () => {
    const later = new Date('2020-07-01T00:00:00Z');
    assert.deepEqual(activeDnsRelations(links('links-ip.json'), { type: 'ip', value: '192.0.2.1' }, later), []);
  });

  test('a url gets no Active DNS sighting; neither does an answer without links', () => {
    const url: Observable = { type: 'url', value: 'http://files.example.org/dl/payload.exe?id=7&ref=mail' };
    const withLinks = mapObservation(info('info-url-critical.json'), links('links-domain.json'), url, options);
    assert.equal(withLinks.sightings?.some((sighting) => sighting.title === 'Active DNS'), false);
    const withoutLinks = mapObservation(info('info-domain-medium.json'), undefined, domain, options);
    assert.equal(withoutLinks.sightings?.length, 5);
    assert.equal(withoutLinks.sightings?.some((sighting) => sighting.title === 'Active DNS'), false);
  });

  test('the links answer: a single link, none at all, a link lacking its stamp', () => {
    const single = { indicator: '203.0.113.8', type: 'ip', stamp_linked: '2020-04-01 00:00:00' };
    assert.deepEqual(parseLinksAnswer({ 'Active DNS': single }), { activeDns: [single] });
    assert.deepEqual(parseLinksAnswer({}), { activeDns: [] });
    assert.deepEqual(parseLinksAnswer({ 'Active DNS': null, 'Related URLs': [] }), { activeDns: [] });
    assert.throws(() => parseLinksAnswer({ 'Active DNS': [{ indicator: '203.0.113.8', type: 'ip' }] }), isKeyError);
    assert.throws(() => parseLinksAnswer([]), isKeyError);
  });
});

describe('the entities limit', () => {
  function idsOf(entities: readonly { id: string }[] | undefined): Set<string> {
    return new Set((entities ?? []).map((entity) => entity.id));
  }
  function assertConnected(result: ReturnType<typeof mapObservation>): void {
    const sightings = idsOf(result.sightings);
    const indicators = idsOf(result.indicators);
    for (const relationship of result.relationships ?? []) {
      assert.ok(sightings.has(relationship.source_ref));
      assert.ok(indicators.has(relationship.target_ref));
    }
  }

  test('keeps the newest sighting and its indicator', () => {
    const result = mapObservation(info('info-domain-medium.json'), links('links-domain.json'), domain, { ...options, entitiesLimit: 1 });
    assert.equal(result.verdicts?.length, 1);
    assert.equal(result.judgements?.length, 1);
    assert.deepEqual(result.sightings?.map((sighting) => sighting.title), ['found in threat feeds']);
    assert.deepEqual(result.indicators?.map((indicator) => indicator.title), ['found in threat feeds']);
    assert.equal(result.relationships?.length, 1);
    assertConnected(result);
  });

  test('newest first: older threats are the first to go', () => {
    const result = mapObservation(info('info-domain-medium.json'), links('links-domain.json'), domain, { ...options, entitiesLimit: 4 });
    assert.deepEqual(result.sightings?.map((sighting: Sighting) => sighting.title), [
      'found in threat feeds',
      'registration recently updated',
      'Active DNS',
      'Feed: BBcan177 DNSBL',
    ]);
    assert.deepEqual(
      result.indicators?.map((indicator: Indicator) => indicator.title),
      ['found in threat feeds', 'registration recently updated', 'Feed: BBcan177 DNSBL'],
    );
    assert.equal(result.relationships?.length, 3);
    assertConnected(result);
  });
});

describe('ids', () => {
  test('threats and feeds have the same indicator id for every observable; risk factors do not', () => {
    const first = mapObservation(info('info-ip-high.json'), undefined, { type: 'ip', value: '185.141.25.242' }, options);
    const second = mapObservation(info('info-ip-high.json'), undefined, { type: 'ip', value: '185.141.25.243' }, options);
    const zeus = stableId('indicator', 'Pulsedive', 'threat', 1);
    assert.equal(byTitle(first.indicators, 'Threat: Zeus').id, zeus);
    assert.equal(byTitle(second.indicators, 'Threat: Zeus').id, zeus);
    assert.equal(byTitle(first.indicators, "Feed: ZeroDot1's Bad IPs").id, byTitle(second.indicators, "Feed: ZeroDot1's Bad IPs").id);
    assert.equal(byTitle(first.indicators, 'Feed: Feodo Tracker').id, stableId('indicator', 'Pulsedive', 'feed', 7));
    assert.notEqual(byTitle(first.indicators, 'blacklisted in threat feeds').id, byTitle(second.indicators, 'blacklisted in threat feeds').id);
  });

  test('entities name the observable as the request gave it', () => {
    const asDomain = mapObservation(info('info-ip-high.json'), undefined, { type: 'domain', value: 'Example.COM' }, options);
    assert.deepEqual(asDomain.verdicts?.[0]?.observable, { type: 'domain', value: 'Example.COM' });
    assert.deepEqual(asDomain.sightings?.[0]?.observables, [{ type: 'domain', value: 'Example.COM' }]);
  });
});

describe('fields and shapes', () => {
  test('feed titles lose Pulsedive\'s word "Feed"', () => {
    assert.equal(feedTitle('BBcan177 DNSBL Feed'), 'Feed: BBcan177 DNSBL');
    assert.equal(feedTitle("ZeroDot1's Bad IPs"), "Feed: ZeroDot1's Bad IPs");
    assert.equal(feedTitle('Feed Of Bad  Hosts'), 'Feed: Of Bad Hosts');
    assert.equal(feedTitle('Feedback Loop'), 'Feed: Feedback Loop');
    assert.equal(feedTitle('Feed'), 'Feed: Feed');
  });

  test('a feed without an organisation is produced by Pulsedive', () => {
    const answer = info('info-ip-high.json');
    const feeds = answer.feeds?.map((feed) => ({ ...feed, organization: null }));
    const result = mapObservation({ ...answer, feeds }, undefined, { type: 'ip', value: '185.141.25.242' }, options);
    assert.equal(byTitle(result.indicators, "Feed: ZeroDot1's Bad IPs").producer, 'Pulsedive');
  });

  test('long titles are cut to the CTIM limit', () => {
    const answer = info('info-ipv6-low.json');
    const description = 'x'.repeat(3000);
    const result = mapObservation({ ...answer, riskfactors: [{ description }] }, undefined, { type: 'ipv6', value: '2001:db8::1' }, options);
    assert.equal((result.indicators?.[0]?.title as string).length, MAX_TITLE);
    assert.equal((result.sightings?.[0]?.title as string).length, MAX_TITLE);
    assert.equal(result.sightings?.[0]?.description, description);
  });

  test('an answer without lists gives the verdict and the judgement only', () => {
    const result = mapObservation(info('info-domain-unknown.json'), undefined, { type: 'domain', value: 'unseen.example.com' }, options);
    assert.equal(result.verdicts?.length, 1);
    assert.equal(result.judgements?.length, 1);
    assert.deepEqual(result.sightings, []);
    assert.deepEqual(result.indicators, []);
    assert.deepEqual(result.relationships, []);
  });

  test('a changed answer is the key error', () => {
    assert.throws(() => parseInfoAnswer(fixture(import.meta.url, 'changed-shape.json')), isKeyError);
    assert.throws(() => parseInfoAnswer('not an object'), isKeyError);
    const answer = info('info-ip-high.json');
    const threats = answer.threats?.map((threat) => ({ ...threat, stamp_linked: 'yesterday' }));
    assert.throws(() => mapObservation({ ...answer, threats }, undefined, { type: 'ip', value: '185.141.25.242' }, options), isKeyError);
    assert.throws(() => mapVerdict({ ...answer, risk: 'extreme' }, { type: 'ip', value: '185.141.25.242' }, NOW), isKeyError);
  });

  test('errors in the answer', () => {
    assert.equal(answerErrorText(fixture(import.meta.url, 'not-found.json')), 'Indicator not found.');
    assert.equal(answerErrorText(fixture(import.meta.url, 'processing.json')), 'Request(s) still processing.');
    assert.equal(answerErrorText(fixture(import.meta.url, 'info-ip-high.json')), undefined);
    assert.equal(answerErrorText({ error: null }), undefined);
    assert.equal(answerErrorText({ error: { reason: 'x' } }), '{"reason":"x"}');
    assert.equal(isNotFoundError('Indicator not found.'), true);
    assert.equal(isNotFoundError('Request(s) still processing.'), false);
  });
});

describe('refer links', () => {
  test('the search link opens the browse page with a query for exactly the value', () => {
    const observable: Observable = { type: 'url', value: 'http://files.example.org/a?b=1&c="2"#frag' };
    const link = searchLink(UI, observable);
    assert.deepEqual({ ...link, url: undefined }, {
      id: `ref-pulsedive-search-url-${encodeURIComponent(observable.value)}`,
      title: 'Search for this URL',
      description: 'Lookup this URL on Pulsedive',
      url: undefined,
      categories: ['Search', 'Pulsedive'],
    });
    const url = new URL(link.url);
    assert.equal(url.origin + url.pathname, 'https://pulsedive.com/browse/');
    assert.deepEqual([...url.searchParams.keys()], ['q']);
    const query = JSON.parse(Buffer.from(url.searchParams.get('q') ?? '', 'base64').toString('utf8'));
    assert.equal(query.indicator[0].raw.value, observable.value);
    assert.equal(query.indicator[0].exact, true);
    assert.deepEqual(query, browseQuery(observable.value));
  });

  test('type names in titles', () => {
    assert.equal(searchLink(UI, { type: 'ip', value: '192.0.2.1' }).title, 'Search for this IP');
    assert.equal(searchLink(UI, { type: 'ipv6', value: '2001:db8::1' }).description, 'Lookup this IPv6 on Pulsedive');
    assert.equal(searchLink(UI, { type: 'domain', value: 'example.com' }).title, 'Search for this domain');
  });

  test('the browse link opens the indicator page', () => {
    assert.deepEqual(browseLink(UI, domain, 3658835), {
      id: 'ref-pulsedive-detail-domain-cdn-update.example.net',
      title: 'Browse domain',
      description: 'Browse this domain on Pulsedive',
      url: 'https://pulsedive.com/indicator/?iid=3658835',
      categories: ['Browse', 'Pulsedive'],
    });
  });

  test('a UI base with a path keeps it', () => {
    assert.equal(browseLink('https://intel.example.com/pulsedive', domain, 7).url, 'https://intel.example.com/pulsedive/indicator/?iid=7');
  });
});
