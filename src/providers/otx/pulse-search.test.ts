// The bounded pulse search with pages served from memory: budget, fairness, concurrency, time.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError, keyError, unavailable } from '../../core/errors.js';
import type { Pulse, PulseIndicatorsPage } from './answers.js';
import { searchPulses, type PulseSearchOptions } from './pulse-search.js';

const VALUE = '203.0.113.45';

function pulse(id: string): Pulse {
  return { id, name: id, author: { username: 'someone' }, created: '2024-01-01T00:00:00', indicator_type_counts: { IPv4: 1 } };
}

/** A pulse of `pages` pages whose entry for VALUE is on page `matchOn` (never when undefined). */
function pagesOf(pages: number, matchOn?: number): (page: number) => PulseIndicatorsPage | undefined {
  return (page) => {
    if (page > pages) return undefined;
    const results = [{ indicator: `192.0.2.${page}`, created: '2024-01-01T00:00:00' }];
    if (page === matchOn) results.push({ indicator: VALUE, created: `2024-01-0${page}T12:00:00` });
    return { results, hasNext: page < pages };
  };
}

/** As pagesOf, but each page also says how many pages the list has (OTX's `count` over a full page). */
function sizedPagesOf(pages: number, matchOn?: number): (page: number) => PulseIndicatorsPage | undefined {
  const unsized = pagesOf(pages, matchOn);
  return (page) => {
    const answer = unsized(page);
    return answer === undefined ? undefined : { ...answer, pageCount: answer.hasNext ? pages : undefined };
  };
}

function harness(shapes: Record<string, (page: number) => PulseIndicatorsPage | undefined>, overrides: Partial<PulseSearchOptions> = {}) {
  const calls: string[] = [];
  // Each call's round trip: one more than the deepest call that had answered before it started.
  const depths: number[] = [];
  const answered: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const options: PulseSearchOptions = {
    maxCalls: 100,
    concurrency: 10,
    signal: new AbortController().signal,
    timeoutMs: 10_000,
    matches: (listed) => listed === VALUE,
    async fetchPage(pulseId, page) {
      calls.push(`${pulseId}:${page}`);
      const depth = 1 + Math.max(0, ...answered);
      depths.push(depth);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      answered.push(depth);
      return shapes[pulseId]!(page);
    },
    ...overrides,
  };
  return { options, calls, maxInFlight: () => maxInFlight, depth: () => Math.max(0, ...depths) };
}

describe('searchPulses', () => {
  test('each search stops at its first match, on whatever page it is', async () => {
    const { options, calls } = harness({ a: pagesOf(5, 3), b: pagesOf(5, 1) });
    const findings = await searchPulses([pulse('a'), pulse('b')], options);
    assert.deepEqual(
      findings.map((finding) => [finding.pulse.id, finding.indicator?.created]),
      [
        ['a', '2024-01-03T12:00:00'],
        ['b', '2024-01-01T12:00:00'],
      ],
    );
    assert.deepEqual(calls.sort(), ['a:1', 'a:2', 'a:3', 'b:1']);
  });

  test('a page found beyond the first is remembered, and the next search goes there first', async () => {
    const hints = new Map<string, number>();
    const remember = { hintedPage: (id: string) => hints.get(id), onFound: (id: string, page: number) => void hints.set(id, page) };
    const first = harness({ a: pagesOf(5, 3), b: pagesOf(5, 1) }, remember);
    await searchPulses([pulse('a'), pulse('b')], first.options);
    assert.deepEqual([...hints], [['a', 3]], 'a match on page 1 needs no hint');
    const second = harness({ a: pagesOf(5, 3), b: pagesOf(5, 1) }, remember);
    const findings = await searchPulses([pulse('a'), pulse('b')], second.options);
    assert.equal(findings[0]?.indicator?.created, '2024-01-03T12:00:00');
    assert.deepEqual(second.calls.sort(), ['a:3', 'b:1']);
  });

  test('a hint that no longer holds costs one page, then the search starts from the first', async () => {
    const hints = new Map<string, number>([
      ['a', 4],
      ['b', 9],
      ['c', 1.5],
    ]);
    const { options, calls } = harness(
      { a: pagesOf(5, 2), b: pagesOf(3, 3), c: pagesOf(2, 2) },
      { hintedPage: (id) => hints.get(id), onFound: (id, page) => void hints.set(id, page) },
    );
    const findings = await searchPulses([pulse('a'), pulse('b'), pulse('c')], options);
    assert.deepEqual(
      findings.map((finding) => finding.indicator?.created),
      ['2024-01-02T12:00:00', '2024-01-03T12:00:00', '2024-01-02T12:00:00'],
    );
    // a: the hinted page 4, then 1 and 2; b: page 9 is gone, then 1 to 3; c: a hint that is no page is ignored.
    assert.deepEqual(calls.sort(), ['a:1', 'a:2', 'a:4', 'b:1', 'b:2', 'b:3', 'b:9', 'c:1', 'c:2']);
    assert.deepEqual([...hints], [['a', 2], ['b', 3], ['c', 2]]);
  });

  test('a list without the value, or one OTX does not know, ends the search without a match', async () => {
    const { options, calls } = harness({ a: pagesOf(2), gone: () => undefined });
    const findings = await searchPulses([pulse('a'), pulse('gone')], options);
    assert.deepEqual(
      findings.map((finding) => finding.indicator),
      [undefined, undefined],
    );
    assert.deepEqual(calls.sort(), ['a:1', 'a:2', 'gone:1']);
  });

  test('the call budget is shared, first pages first: a huge pulse cannot starve the others', async () => {
    const { options, calls } = harness({ huge: pagesOf(1000), small: pagesOf(2, 2), tiny: pagesOf(1, 1) }, { maxCalls: 6, concurrency: 1 });
    const findings = await searchPulses([pulse('huge'), pulse('small'), pulse('tiny')], options);
    assert.equal(calls.length, 6);
    assert.deepEqual(calls.slice(0, 3), ['huge:1', 'small:1', 'tiny:1']);
    assert.ok(calls.includes('small:2'));
    assert.deepEqual(
      findings.map((finding) => finding.indicator !== undefined),
      [false, true, true],
    );
  });

  test('lists that say their size: the first pages, then every remaining page at once (two rounds)', async () => {
    const { options, calls, depth } = harness({ a: sizedPagesOf(6, 6), b: sizedPagesOf(3, 2), c: sizedPagesOf(1, 1), d: sizedPagesOf(4) });
    const findings = await searchPulses([pulse('a'), pulse('b'), pulse('c'), pulse('d')], options);
    assert.deepEqual(
      findings.map((finding) => finding.indicator?.created),
      ['2024-01-06T12:00:00', '2024-01-02T12:00:00', '2024-01-01T12:00:00', undefined],
    );
    assert.equal(depth(), 2, 'the page calls took more than two rounds');
    // b is found on page 2, but its page 3 was already asked for in the same round.
    assert.deepEqual(calls.slice(0, 4), ['a:1', 'b:1', 'c:1', 'd:1']);
    assert.deepEqual(calls.slice(4).sort(), ['a:2', 'a:3', 'a:4', 'a:5', 'a:6', 'b:2', 'b:3', 'd:2', 'd:3', 'd:4']);
    assert.equal(findings[0]!.foundOn?.results.at(-1)?.indicator, VALUE);
  });

  test('the second round spends what is left of the budget breadth first: page 2 of every pulse, then page 3', async () => {
    const { options, calls } = harness({ huge: sizedPagesOf(1000), small: sizedPagesOf(3, 3), other: sizedPagesOf(5) }, { maxCalls: 9 });
    const findings = await searchPulses([pulse('huge'), pulse('small'), pulse('other')], options);
    assert.equal(calls.length, 9);
    assert.deepEqual(calls.slice(0, 3), ['huge:1', 'small:1', 'other:1']);
    assert.deepEqual(calls.slice(3).sort(), ['huge:2', 'huge:3', 'other:2', 'other:3', 'small:2', 'small:3']);
    assert.deepEqual(
      findings.map((finding) => finding.indicator !== undefined),
      [false, true, false],
    );
  });

  test('pages not yet started when the entry is found are never asked for', async () => {
    const { options, calls } = harness({ a: sizedPagesOf(8, 2) }, { concurrency: 1 });
    const findings = await searchPulses([pulse('a')], options);
    assert.notEqual(findings[0]!.indicator, undefined);
    assert.deepEqual(calls, ['a:1', 'a:2']);
  });

  test('a hinted page that no longer holds the entry: every other page in the second round', async () => {
    const { options, calls, depth } = harness({ a: sizedPagesOf(5, 2) }, { hintedPage: () => 4 });
    const findings = await searchPulses([pulse('a')], options);
    assert.equal(findings[0]!.indicator?.created, '2024-01-02T12:00:00');
    assert.equal(calls[0], 'a:4');
    assert.deepEqual(calls.slice(1).sort(), ['a:1', 'a:2', 'a:3', 'a:5']);
    assert.equal(depth(), 2);
  });

  test('no budget, no call: every pulse is reported without its entry', async () => {
    const { options, calls } = harness({ a: pagesOf(1, 1) }, { maxCalls: 0 });
    const findings = await searchPulses([pulse('a')], options);
    assert.deepEqual(calls, []);
    assert.equal(findings[0]!.indicator, undefined);
  });

  test('no more page calls in flight than the bound', async () => {
    const shapes = Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`p${index}`, pagesOf(3, 3)]));
    const { options, calls, maxInFlight } = harness(shapes, { concurrency: 4 });
    const findings = await searchPulses(Object.keys(shapes).map(pulse), options);
    assert.equal(calls.length, 36);
    assert.equal(maxInFlight(), 4);
    assert.ok(findings.every((finding) => finding.indicator !== undefined));
  });

  test('when the time is up, no page call starts and searching pulses end without their entry', async () => {
    const { options, calls } = harness({ slow: pagesOf(1000), quick: pagesOf(1, 1) }, { timeoutMs: 150, concurrency: 1 });
    const started = Date.now();
    const findings = await searchPulses([pulse('slow'), pulse('quick')], options);
    assert.ok(Date.now() - started < 1000);
    assert.equal(findings[0]!.indicator, undefined);
    assert.notEqual(findings[1]!.indicator, undefined);
    const made = calls.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(calls.length, made, 'no call after the stop');
  });

  test('a page slower than the time left is not waited for', async () => {
    const { options } = harness({ a: pagesOf(1, 1) }, { timeoutMs: 30 });
    const slowOptions = { ...options, fetchPage: () => new Promise<PulseIndicatorsPage>((resolve) => setTimeout(() => resolve(pagesOf(1, 1)(1)!), 2000)) };
    const started = Date.now();
    const findings = await searchPulses([pulse('a')], slowOptions);
    assert.ok(Date.now() - started < 1500);
    assert.equal(findings[0]!.indicator, undefined);
  });

  test('once the request is aborted, no page call starts', async () => {
    const controller = new AbortController();
    const { options, calls } = harness({ a: pagesOf(1000) }, { signal: controller.signal });
    const fetchPage = options.fetchPage;
    const findings = await searchPulses([pulse('a')], {
      ...options,
      fetchPage: (pulseId, page) => {
        if (page === 3) controller.abort();
        return fetchPage(pulseId, page);
      },
    });
    assert.deepEqual(calls, ['a:1', 'a:2', 'a:3']);
    assert.equal(findings[0]!.indicator, undefined);
  });

  test('a failed page leaves that pulse without its entry and is reported; the others go on', async () => {
    const failures: [string, string][] = [];
    const { options } = harness(
      {
        broken: () => {
          throw unavailable('AlienVault OTX');
        },
        fine: pagesOf(1, 1),
      },
      { onPageError: (failed, error) => failures.push([failed.id, error.code]) },
    );
    const findings = await searchPulses([pulse('broken'), pulse('fine')], options);
    assert.deepEqual(failures, [['broken', 'service unavailable']]);
    assert.equal(findings[0]!.indicator, undefined);
    assert.notEqual(findings[1]!.indicator, undefined);
  });

  test('a changed page shape fails the search: the module is broken', async () => {
    const { options } = harness({
      changed: () => {
        throw keyError('AlienVault OTX');
      },
    });
    await assert.rejects(searchPulses([pulse('changed')], options), (error: unknown) => error instanceof RelayError && error.code === 'key error');
  });
});
