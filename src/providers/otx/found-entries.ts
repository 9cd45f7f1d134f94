// The observable's entry in each pulse, kept with its `general` answer for as long as the
// in-memory cache keeps that answer (every hit shares the same frozen object), so a warm lookup
// reads one cached answer instead of one per pulse. Only entries from pages stored no earlier
// than the general answer are kept: those stay in the cache at least as long as it does, so no
// entry is served older than the cache's TTL allows. Without the in-memory cache nothing is kept.
import type { GeneralAnswer, PulseIndicator, PulseIndicatorsPage } from './answers.js';
import type { PulseFinding } from './mapping.js';

const entriesOf = new WeakMap<GeneralAnswer, Map<string, PulseIndicator>>();

/** The entries found earlier, by pulse id, for this cached general answer. */
export function knownEntries(general: GeneralAnswer): ReadonlyMap<string, PulseIndicator> | undefined {
  return entriesOf.get(general);
}

/** `foundOn`: the page answer each pulse's entry was found on. */
export function keepFoundEntries(general: GeneralAnswer, findings: readonly PulseFinding[], foundOn: ReadonlyMap<string, PulseIndicatorsPage>): void {
  const since = general.cachedAt;
  if (since === undefined) return;
  let kept = entriesOf.get(general);
  for (const { pulse, indicator } of findings) {
    const page = foundOn.get(pulse.id);
    // A page without `cachedAt` was fetched by this lookup, after the general answer was stored.
    if (indicator === undefined || page === undefined || (page.cachedAt ?? since) < since) continue;
    if (kept === undefined) entriesOf.set(general, (kept = new Map()));
    kept.set(pulse.id, indicator);
  }
}
