// One row per observable: its consensus, a chip per provider, the top titles, first and last
// seen. Rows fill in as the stream's lines arrive; a row expands to its detail.
import type { ObservableRef } from '../api.js';
import { firstSeen, lastSeen, topTitles, type ResultRow } from '../results.js';
import { ProviderChip } from './ProviderChip.js';
import { formatTime, RowDetail } from './RowDetail.js';
import { VerdictBadge } from './VerdictBadge.js';

interface Props {
  rows: ResultRow[];
  expanded: ReadonlySet<string>;
  onToggle: (key: string) => void;
  onCopy: (row: ResultRow) => void;
  onPivot: (observable: ObservableRef) => void;
}

const detailId = (index: number) => `detail-${index}`;

export function ResultsTable({ rows, expanded, onToggle, onCopy, onPivot }: Props) {
  return (
    <table class="results" id="results-table">
      <caption class="visually-hidden">Lookup results, one row per observable</caption>
      <thead>
        <tr>
          <th scope="col">Observable</th>
          <th scope="col">Verdict</th>
          <th scope="col">Providers</th>
          <th scope="col">Top titles</th>
          <th scope="col">First seen</th>
          <th scope="col">Last seen</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      {rows.map((row, index) => {
        const open = expanded.has(row.key);
        const names = new Map(row.expected.map((provider) => [provider.id, provider.name]));
        for (const provider of row.providers) names.set(provider.id, provider.name);
        const first = firstSeen(row);
        const last = lastSeen(row);
        return (
          <tbody key={row.key} class="result" data-value={row.observable.value}>
            <tr>
              <th scope="row" data-label="Observable">
                <span class="type">{row.observable.type}</span> <span class="value">{row.observable.value}</span>
              </th>
              <td data-label="Verdict">
                <VerdictBadge verdict={row.verdict} />
              </td>
              <td data-label="Providers">
                <ul class="chips" aria-label={`Providers on ${row.observable.value}`}>
                  {[...names.entries()].map(([id, name]) => (
                    <li key={id} data-provider={id}>
                      <ProviderChip name={name} result={row.providers.find((provider) => provider.id === id)} />
                    </li>
                  ))}
                </ul>
              </td>
              <td data-label="Top titles">
                <ul class="titles">
                  {topTitles(row).map((title) => (
                    <li key={title}>{title}</li>
                  ))}
                </ul>
              </td>
              <td data-label="First seen">{first === undefined ? '' : <time dateTime={first}>{formatTime(first)}</time>}</td>
              <td data-label="Last seen">{last === undefined ? '' : <time dateTime={last}>{formatTime(last)}</time>}</td>
              <td data-label="Actions" class="actions">
                <button type="button" aria-expanded={open} aria-controls={detailId(index)} onClick={() => onToggle(row.key)}>
                  {open ? 'Hide' : 'Details'}
                  <span class="visually-hidden"> of {row.observable.value}</span>
                </button>
                <button type="button" onClick={() => onCopy(row)}>
                  Copy<span class="visually-hidden"> the verdict of {row.observable.value}</span>
                </button>
              </td>
            </tr>
            {open ? (
              <tr class="detail-row" id={detailId(index)}>
                <td colSpan={7}>
                  <RowDetail row={row} onPivot={onPivot} />
                </td>
              </tr>
            ) : null}
          </tbody>
        );
      })}
    </table>
  );
}
