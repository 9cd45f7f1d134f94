// Finding the observable's own entry (its created/expiration times) in each pulse that holds it.
// OTX has no lookup of one indicator within a pulse, only the pulse's paged indicator list; the
// originals paged through all of it for every pulse, which costs minutes for a popular
// observable. Here the search is bounded three ways: pulses are searched concurrently under a
// bound, each search stops at its first match, and all searches of one observable share a
// budget of upstream calls and of time. A pulse not found within them is still
// reported, with the pulse's own times (see mapping.ts).
import { boundedRunner } from '../../core/concurrency.js';
import { toRelayError, type RelayError } from '../../core/errors.js';
import type { Pulse, PulseIndicatorsPage } from './answers.js';
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
  /** A page call failed: the pulse keeps its own times. */
  onPageError?(pulse: Pulse, error: RelayError): void;
  /** The page an earlier search found the observable on, if known: tried first. */
  hintedPage?(pulseId: string): number | undefined;
  /** The observable was found on `page` (beyond the first): for later searches. */
  onFound?(pulseId: string, page: number): void;
}

const OUT_OF_BUDGET = Symbol('out of budget');
const STOPPED = Symbol('stopped');

export async function searchPulses(pulses: readonly Pulse[], options: PulseSearchOptions): Promise<PulseFinding[]> {
  // Each pulse's pages are fetched one after another: at most one call per pulse is in flight.
  const limit = boundedRunner(pulses.length, options.concurrency);
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

  // The budget is taken when a call starts, not when it is queued: the queue is first in, first
  // out, so every pulse gets its first page before any pulse gets its second (a huge pulse
  // cannot eat the budget of the others).
  const page = (pulse: Pulse, number: number) =>
    limit.run(async () => {
      if (callsLeft <= 0 || stop()) return OUT_OF_BUDGET;
      callsLeft -= 1;
      return options.fetchPage(pulse.id, number);
    });

  async function search(pulse: Pulse): Promise<PulseFinding> {
    // An entry is listed once per pulse, so finding it on the hinted page ends the search as
    // surely as reaching it from page 1 would; a hint that no longer holds costs one page.
    let hint = options.hintedPage?.(pulse.id);
    if (hint !== undefined && !(Number.isInteger(hint) && hint > 1)) hint = undefined;
    for (let number = hint ?? 1; ; number += 1) {
      let answer: PulseIndicatorsPage | undefined | typeof OUT_OF_BUDGET | typeof STOPPED;
      try {
        answer = await Promise.race([page(pulse, number), stopped]);
      } catch (error) {
        const relayError = toRelayError(error);
        // A changed answer shape means the module is broken: that is reported, not papered over.
        if (relayError.code === 'key error') throw relayError;
        options.onPageError?.(pulse, relayError);
        return { pulse, indicator: undefined };
      }
      if (answer === OUT_OF_BUDGET || answer === STOPPED) return { pulse, indicator: undefined };
      const indicator = answer?.results.find((entry) => options.matches(entry.indicator));
      if (indicator !== undefined) {
        if (number > 1) options.onFound?.(pulse.id, number);
        return { pulse, indicator };
      }
      if (hint !== undefined) {
        // Not there any more: the ordinary search from the first page (the loop adds one).
        hint = undefined;
        number = 0;
        continue;
      }
      if (answer === undefined || !answer.hasNext) return { pulse, indicator: undefined };
    }
  }

  try {
    return await Promise.all(pulses.map(search));
  } finally {
    clearTimeout(timer);
    // When one search failed the whole lookup, the others must not go on spending calls.
    ended = true;
  }
}
