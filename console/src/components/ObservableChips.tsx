// What the relay found in the pasted text, before anything is looked up: one chip per
// observable (removable), and the withheld ones greyed with the reason they stay home.
import type { ObservableRef, WithheldObservable } from '../api.js';
import { observableKey } from '../results.js';

interface Props {
  observables: ObservableRef[];
  withheld: WithheldObservable[];
  onRemove: (observable: ObservableRef) => void;
}

export function ObservableChips({ observables, withheld, onRemove }: Props) {
  return (
    <div class="extracted">
      <p class="muted" id="extracted-count">
        {observables.length} observable{observables.length === 1 ? '' : 's'} found{withheld.length > 0 ? `, ${withheld.length} withheld` : ''}
      </p>
      <ul class="chips" aria-label="Observables to look up">
        {observables.map((observable) => (
          <li key={observableKey(observable)} class="chip chip-observable" data-value={observable.value}>
            <span class="type">{observable.type}</span> {observable.value}
            <button type="button" class="remove" onClick={() => onRemove(observable)} aria-label={`Remove ${observable.value}`}>
              <span aria-hidden="true">×</span>
            </button>
          </li>
        ))}
      </ul>
      {withheld.length > 0 ? (
        <ul class="chips" aria-label="Withheld observables (never sent to a provider)">
          {withheld.map((observable) => (
            <li key={observableKey(observable)} class="chip chip-withheld" data-value={observable.value}>
              <span class="type">{observable.type}</span> {observable.value} <span class="reason">withheld: {observable.reason}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
