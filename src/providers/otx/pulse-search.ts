// Finding the observable's own entry (its created/expiration times) in each pulse that holds it.
// OTX has no lookup of one indicator within a pulse, only the pulse's paged indicator list; the
// originals paged through all of it, one page after another, for every pulse, which costs minutes
// for a popular observable. Here the search takes two rounds after the `general` lookup, so an
// observable costs three round trips at most however many pages its pulses have:
//   1. the first page of every pulse (or the page an earlier search found the observable on);
//   2. every remaining page of the pulses not found yet, at once: a page says how many indicators
//      the list holds (`count`), and a full page how many it takes, so the page count is known.
// Both rounds share a budget of upstream calls and of time; the second spends it breadth first
// (every pulse's page 2, then every pulse's page 3, …), so a huge pulse cannot starve the others.
// A list that does not say its size is read on one page after another, as before. A pulse not
// found within the budget is still reported, with the pulse's own times (see mapping.ts).
import { boundedRunner, type BoundedRunner } from '../../core/concurrency.js';
import { toRelayError, type RelayError } from '../../core/errors.js';
import type { Pulse, PulseIndicator, PulseIndicatorsPage } from './answers.js';
import type { PulseFinding } from './mapping.js';

export interface PulseSearchOptions {
  /** Page calls all searches of one observable may make together. */
  maxCalls: number;
  /** Page calls of one observable in flight at once. */
  concurrency: number;
  /** The request's own signal: once aborted no page call starts. */
  signal: AbortSignal;
  /** After this long no page call starts, and pulses still searching end without their entry. */
  timeoutMs: number;
  /** One page (1-based) of a pulse's indicator list; undefined when OTX knows nothing of it. */
  fetchPage(pulseId: string, page: number): Promise<PulseIndicatorsPage | undefined>;
  /** Whether an entry of the list is the observable. */
  matches(listed: string): boolean;
  /** A page call failed (and no other page of the pulse held the entry): the pulse keeps its own times. */
  onPageError?(pulse: Pulse, error: RelayError): void;
  /** The page an earlier search found the observable on, if known: tried first. */
  hintedPage?(pulseId: string): number | undefined;
  /** The observable was found on `page` (beyond the first): for later searches. */
  onFound?(pulseId: string, page: number): void;
}

export interface SearchFinding extends PulseFinding {
  /** The page answer the entry was found on. */
  foundOn?: PulseIndicatorsPage | undefined;
}

const SKIPPED = Symbol('skipped');
const STOPPED = Symbol('stopped');
const FAILED = Symbol('failed');

interface Search {
  pulse: Pulse;
  /** Set once the entry is found, or the search has ended without it: no more pages for it. */
  done: boolean;
  found?: { indicator: PulseIndicator; page: number; answer: PulseIndicatorsPage };
  failed?: RelayError;
}

/** The pages a list has, when its first (or any full) page says so; undefined when it does not. */
function pageCountOf(answer: PulseIndicatorsPage, page: number): number | undefined {
  const count = answer.pageCount;
  if (!answer.hasNext) return page;
  // A count that leaves no page after this one while OTX says there is one is not to be trusted.
  return count !== undefined && Number.isInteger(count) && count > page ? count : undefined;
}

export async function searchPulses(pulses: readonly Pulse[], options: PulseSearchOptions): Promise<SearchFinding[]> {
  let callsLeft = options.maxCalls;
  // A plain timer, not AbortSignal.any([..., AbortSignal.timeout()]): on Node 20 a timeout signal
  // held only by such a composite can be garbage-collected and never fire.
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    timer = setTimeout(() => {
      ended = true;
      resolve(STOPPED);
    }, options.timeoutMs);
  });
  // The request's signal is only polled: a listener per observable on it would pile up.
  const stop = (): boolean => ended || options.signal.aborted;

  /**
   * One page of one pulse. The budget is taken when the call starts, not when it is queued: the
   * queue is first in, first out, so pages are paid for in the order they were asked for. A pulse
   * found meanwhile asks for nothing more.
   */
  async function read(runner: BoundedRunner, search: Search, page: number): Promise<PulseIndicatorsPage | undefined | typeof SKIPPED | typeof FAILED> {
    let answer: PulseIndicatorsPage | undefined | typeof SKIPPED | typeof STOPPED;
    try {
      const call = runner.run(async () => {
        if (search.done || callsLeft <= 0 || stop()) return SKIPPED;
        callsLeft -= 1;
        const fetched = await options.fetchPage(search.pulse.id, page);
        // Looked at before the runner starts the next queued page, which may then be skipped.
        if (fetched !== undefined && search.found === undefined && !ended) {
          const indicator = fetched.results.find((entry) => options.matches(entry.indicator));
          if (indicator !== undefined) {
            search.found = { indicator, page, answer: fetched };
            search.done = true;
          }
        }
        return fetched;
      });
      answer = await Promise.race([call, stopped]);
    } catch (error) {
      const relayError = toRelayError(error);
      // A changed answer shape means the module is broken: that is reported, not papered over.
      if (relayError.code === 'key error') throw relayError;
      search.failed ??= relayError;
      return FAILED;
    }
    return answer === STOPPED ? SKIPPED : answer;
  }

  /** One page after another from `page` on, for a list that does not say how many it has. */
  async function readOnFrom(runner: BoundedRunner, search: Search, page: number): Promise<void> {
    for (let number = page; !search.done; number += 1) {
      const answer = await read(runner, search, number);
      if (typeof answer !== 'object' || !answer.hasNext) return;
    }
  }

  const searches: Search[] = pulses.map((pulse) => ({ pulse, done: false }));
  try {
    // Round 1: every pulse's first page, or its hinted one. An entry is listed once per pulse, so
    // finding it on the hinted page ends the search as surely as reaching it from page 1 would.
    const starts = searches.map((search) => {
      const hint = options.hintedPage?.(search.pulse.id);
      return hint !== undefined && Number.isInteger(hint) && hint > 1 ? hint : 1;
    });
    const first = boundedRunner(searches.length, options.concurrency);
    const firstAnswers = await Promise.all(searches.map((search, index) => read(first, search, starts[index]!)));

    // Round 2: what is left of each pulse not found yet, every page at once where the size is known.
    const remaining: { search: Search; pages: number[] }[] = [];
    const sequential: { search: Search; from: number }[] = [];
    searches.forEach((search, index) => {
      const answer = firstAnswers[index];
      const start = starts[index]!;
      if (search.done) return;
      if (answer === SKIPPED || answer === FAILED) {
        search.done = true;
        return;
      }
      if (answer === undefined) {
        // OTX knows nothing of the pulse, or of a hinted page that is gone: from page 1 then.
        if (start > 1) sequential.push({ search, from: 1 });
        else search.done = true;
        return;
      }
      const pages = pageCountOf(answer, start);
      if (pages === undefined) {
        sequential.push({ search, from: start > 1 ? 1 : 2 });
        return;
      }
      const rest: number[] = [];
      // Not found where it was last time: every other page, from the first.
      for (let page = 1; page <= pages && rest.length < callsLeft; page += 1) if (page !== start) rest.push(page);
      if (rest.length === 0) search.done = true;
      else remaining.push({ search, pages: rest });
    });

    // Breadth first, and no more pages asked for than the budget can pay.
    const order: [Search, number][] = [];
    for (let round = 0; order.length < callsLeft; round += 1) {
      const before = order.length;
      for (const { search, pages } of remaining) {
        const page = pages[round];
        if (page !== undefined && order.length < callsLeft) order.push([search, page]);
      }
      if (order.length === before) break;
    }
    const second = boundedRunner(order.length + sequential.length, options.concurrency);
    await Promise.all([
      ...order.map(([search, page]) => read(second, search, page)),
      ...sequential.map(({ search, from }) => readOnFrom(second, search, from)),
    ]);
  } finally {
    clearTimeout(timer);
    // When one search failed the whole lookup, the others must not go on spending calls.
    ended = true;
  }

  return searches.map((search): SearchFinding => {
    if (search.found !== undefined) {
      if (search.found.page > 1) options.onFound?.(search.pulse.id, search.found.page);
      return { pulse: search.pulse, indicator: search.found.indicator, foundOn: search.found.answer };
    }
    if (search.failed !== undefined) options.onPageError?.(search.pulse, search.failed);
    return { pulse: search.pulse, indicator: undefined };
  });
}
