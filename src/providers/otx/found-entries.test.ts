// Entries kept with a cached general answer: only from pages stored no earlier than it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../../../test/helpers/fake-upstream.js';
import { parseGeneralAnswer, parsePulseIndicatorsPage, type GeneralAnswer, type PulseIndicatorsPage } from './answers.js';
import { keepFoundEntries, knownEntries } from './found-entries.js';
import type { PulseFinding } from './mapping.js';

const load = (name: string): unknown => fixture(import.meta.url, name);

function general(cachedAt: number | undefined): GeneralAnswer {
  return { ...parseGeneralAnswer(load('general-ip.json')), cachedAt };
}

function page(cachedAt: number | undefined): PulseIndicatorsPage {
  return { ...parsePulseIndicatorsPage(load('pulse-emotet-page-1.json')), cachedAt };
}

function findingsOf(answer: GeneralAnswer, found: PulseIndicatorsPage): PulseFinding[] {
  const [first, second, third] = answer.pulses;
  const entry = found.results[0]!;
  return [
    { pulse: first!, indicator: entry },
    { pulse: second!, indicator: entry },
    { pulse: third!, indicator: undefined },
  ];
}

describe('entries kept with a cached general answer', () => {
  test('entries from pages fetched or stored after the general answer are kept; older pages and misses are not', () => {
    const answer = general(1_000);
    const findings = findingsOf(answer, page(1_000));
    const [first, second, third] = answer.pulses;
    const foundOn = new Map([
      [first!.id, page(undefined)],
      [second!.id, page(999)],
      [third!.id, page(2_000)],
    ]);
    keepFoundEntries(answer, findings, foundOn);
    const kept = knownEntries(answer);
    assert.deepEqual([...(kept?.keys() ?? [])], [first!.id], 'a page stored before the general answer may leave the cache first');
    assert.equal(kept?.get(first!.id), findings[0]!.indicator);

    // Later searches add to what is kept.
    keepFoundEntries(answer, [{ pulse: second!, indicator: findings[1]!.indicator }], new Map([[second!.id, page(1_500)]]));
    assert.deepEqual([...(knownEntries(answer)?.keys() ?? [])], [first!.id, second!.id]);
  });

  test('nothing is kept for a general answer that is not from the in-memory cache', () => {
    const answer = general(undefined);
    const found = page(undefined);
    keepFoundEntries(answer, findingsOf(answer, found), new Map(answer.pulses.map((pulse) => [pulse.id, found])));
    assert.equal(knownEntries(answer), undefined);
  });
});
