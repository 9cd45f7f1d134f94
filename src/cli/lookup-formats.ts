// The machine-readable answers of `ctr-relay lookup`: json (the HTTP API's answer exactly),
// ndjson (the HTTP API's streaming lines, written by lookup as they arrive) and csv (one row per observable and provider).
import { stringify } from 'csv-stringify/sync';
import type { AnswerView, ObservableResultView, ProviderResultView } from './answer-view.js';

export const FORMATS = ['table', 'json', 'ndjson', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

/** `POST /enrich/observables`' answer: `{"data": {"observables": […], "withheld": […]}}`. */
export function renderJson(answer: AnswerView): string {
  return `${JSON.stringify({ data: { observables: answer.observables, withheld: answer.withheld } }, null, 2)}\n`;
}

/** The observable as a streaming line names it. */
function observableKey(observable: Pick<ObservableResultView, 'type' | 'value'>): { type: string; value: string } {
  return { type: observable.type, value: observable.value };
}

export function providerLine(observable: Pick<ObservableResultView, 'type' | 'value'>, provider: ProviderResultView): string {
  return `${JSON.stringify({ observable: observableKey(observable), provider })}\n`;
}

export function verdictLine(observable: Pick<ObservableResultView, 'type' | 'value'>, verdict: ObservableResultView['verdict']): string {
  return `${JSON.stringify({ observable: observableKey(observable), verdict })}\n`;
}

export function doneLine(withheld: AnswerView['withheld']): string {
  return `${JSON.stringify({ done: true, withheld })}\n`;
}

export const CSV_COLUMNS = [
  'type',
  'value',
  'consensus',
  'provider',
  'status',
  'verdict',
  'judgements',
  'sightings',
  'indicators',
  'relationships',
  'first_seen',
  'last_seen',
  'titles',
  'links',
  'error_code',
  'detail',
] as const;

function csvRow(observable: ObservableResultView, provider: ProviderResultView | undefined): (string | number)[] {
  const counts = provider?.counts;
  return [
    observable.type,
    observable.value,
    observable.verdict.disposition_name,
    provider?.id ?? '',
    provider?.status ?? '',
    provider?.verdict?.disposition_name ?? '',
    counts?.judgements ?? '',
    counts?.sightings ?? '',
    counts?.indicators ?? '',
    counts?.relationships ?? '',
    provider?.first_seen ?? '',
    provider?.last_seen ?? '',
    (provider?.titles ?? []).join(' | '),
    (provider?.links ?? []).map((link) => link.url).join(' '),
    provider?.error?.code ?? '',
    provider?.error?.message ?? provider?.reason ?? '',
  ];
}

/** A header, then a row per observable and provider (one row with no provider when none supports its type). */
export function renderCsv(answer: AnswerView): string {
  const rows: (string | number)[][] = [];
  for (const observable of answer.observables) {
    if (observable.providers.length === 0) rows.push(csvRow(observable, undefined));
    for (const provider of observable.providers) rows.push(csvRow(observable, provider));
  }
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'unix' });
}
