// The lookup's answer as it fills in from the stream, and what the table derives from it
// (agreement text, sorting, filtering, the summary line, the relations of the graph, exports).
// Pure functions: no DOM here.
import type { ConsensusVerdict, ObservableRef, ProviderInfo, ProviderResult, StreamLine, WithheldObservable } from './types.js';

export interface ResultRow {
  key: string;
  observable: ObservableRef;
  /** In arrival order; a provider that supports the type but has not answered yet is pending. */
  providers: ProviderResult[];
  /** The providers expected to answer for this type (id and name). */
  expected: { id: string; name: string }[];
  verdict?: ConsensusVerdict;
  /** The order the observable was asked in, for a stable default sort. */
  index: number;
}

export interface Results {
  rows: ResultRow[];
  withheld: WithheldObservable[];
  done: boolean;
}

export const observableKey = (observable: ObservableRef): string => `${observable.type}\u0000${observable.value}`;

export function emptyResults(observables: ObservableRef[], providers: ProviderInfo[]): Results {
  return {
    rows: observables.map((observable, index) => ({
      key: observableKey(observable),
      observable,
      providers: [],
      expected: providers.filter((provider) => provider.types.length === 0 || provider.types.includes(observable.type)).map(({ id, name }) => ({ id, name })),
      index,
    })),
    withheld: [],
    done: false,
  };
}

/** The results with one stream line applied (a new object: Preact re-renders what changed). */
export function applyLine(results: Results, line: StreamLine): Results {
  if ('done' in line) {
    // What the text inspection withheld (never sent) and what the relay withheld from the request.
    const known = new Set(results.withheld.map(observableKey));
    const withheld = [...results.withheld, ...(line.withheld ?? []).filter((item) => !known.has(observableKey(item)))];
    return { ...results, done: true, withheld };
  }
  const key = observableKey(line.observable);
  let found = false;
  const rows = results.rows.map((row) => {
    if (row.key !== key) return row;
    found = true;
    if ('provider' in line) return { ...row, providers: [...row.providers.filter((provider) => provider.id !== line.provider.id), line.provider] };
    return { ...row, verdict: line.verdict };
  });
  if (!found) {
    const row: ResultRow = { key, observable: line.observable, providers: [], expected: [], index: rows.length };
    if ('provider' in line) row.providers.push(line.provider);
    else row.verdict = line.verdict;
    rows.push(row);
  }
  return { ...results, rows };
}

export const VERDICTS = ['malicious', 'suspicious', 'clean', 'unknown', 'pending'] as const;
export type VerdictName = (typeof VERDICTS)[number];

export function dispositionSlug(name: string | undefined): VerdictName {
  const slug = (name ?? '').toLowerCase();
  return (VERDICTS as readonly string[]).includes(slug) ? (slug as VerdictName) : 'unknown';
}

export function rowVerdict(row: ResultRow): VerdictName {
  return row.verdict === undefined ? 'pending' : dispositionSlug(row.verdict.disposition_name);
}

/** "2 of 3 malicious": how many of the providers that answered gave the consensus disposition. */
export function agreementText(verdict: ConsensusVerdict | undefined): string {
  if (verdict === undefined) return 'waiting for providers';
  if (verdict.answered === 0) return 'no provider answered';
  const slug = dispositionSlug(verdict.disposition_name);
  const count = slug === 'pending' ? 0 : verdict[slug];
  return `${count} of ${verdict.answered} ${slug}`;
}

/** Severity order: malicious first, pending last. */
const SEVERITY: Record<VerdictName, number> = { malicious: 0, suspicious: 1, clean: 2, unknown: 3, pending: 4 };

export type SortKey = 'order' | 'verdict' | 'observable' | 'last_seen';

export function firstSeen(row: ResultRow): string | undefined {
  return row.providers.map((provider) => provider.first_seen).filter((time): time is string => time !== undefined).sort()[0];
}

export function lastSeen(row: ResultRow): string | undefined {
  return row.providers.map((provider) => provider.last_seen).filter((time): time is string => time !== undefined).sort().at(-1);
}

export function topTitles(row: ResultRow, limit = 3): string[] {
  const titles: string[] = [];
  for (const provider of row.providers) for (const title of provider.titles ?? []) if (!titles.includes(title)) titles.push(title);
  return titles.slice(0, limit);
}

export function sortRows(rows: readonly ResultRow[], key: SortKey): ResultRow[] {
  const sorted = [...rows];
  const byOrder = (a: ResultRow, b: ResultRow) => a.index - b.index;
  if (key === 'order') return sorted.sort(byOrder);
  if (key === 'verdict') return sorted.sort((a, b) => SEVERITY[rowVerdict(a)] - SEVERITY[rowVerdict(b)] || byOrder(a, b));
  if (key === 'observable') return sorted.sort((a, b) => a.observable.value.localeCompare(b.observable.value) || byOrder(a, b));
  return sorted.sort((a, b) => (lastSeen(b) ?? '').localeCompare(lastSeen(a) ?? '') || byOrder(a, b));
}

export function filterRows(rows: readonly ResultRow[], shown: ReadonlySet<VerdictName>): ResultRow[] {
  return rows.filter((row) => shown.has(rowVerdict(row)));
}

export function verdictCounts(rows: readonly ResultRow[]): Record<VerdictName, number> {
  const counts: Record<VerdictName, number> = { malicious: 0, suspicious: 0, clean: 0, unknown: 0, pending: 0 };
  for (const row of rows) counts[rowVerdict(row)] += 1;
  return counts;
}

/** "3 observables: 1 malicious, 1 suspicious, 0 clean, 1 unknown" (pending only while there are some). */
export function summaryText(rows: readonly ResultRow[]): string {
  const counts = verdictCounts(rows);
  const parts = VERDICTS.filter((name) => name !== 'pending' || counts.pending > 0).map((name) => `${counts[name]} ${name}`);
  return `${rows.length} observable${rows.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

export function providerStatusText(provider: ProviderResult): string {
  if (provider.status === 'ok') return provider.verdict?.disposition_name ?? 'no verdict';
  if (provider.status === 'error') return `error: ${provider.error?.message ?? provider.error?.code ?? 'failed'}`;
  return `skipped: ${provider.reason ?? 'not asked'}`;
}

/** One line an analyst can paste into a ticket. */
export function verdictSummary(row: ResultRow): string {
  const verdict = row.verdict?.disposition_name ?? 'Pending';
  const providers = row.providers.map((provider) => `${provider.name}: ${providerStatusText(provider)}`).join('; ');
  return `${row.observable.value} (${row.observable.type}): ${verdict}, ${agreementText(row.verdict)}${providers === '' ? '' : ` [${providers}]`}`;
}

export interface Relation {
  relation: string;
  source: ObservableRef;
  related: ObservableRef;
  origin: string;
}

/** Every sighting relation of the row's providers, de-duplicated. */
export function relationsOf(row: ResultRow): Relation[] {
  const seen = new Set<string>();
  const out: Relation[] = [];
  for (const provider of row.providers) {
    for (const sighting of provider.ctim?.sightings?.docs ?? []) {
      for (const relation of (sighting.relations ?? []) as Relation[]) {
        if (relation?.source === undefined || relation.related === undefined) continue;
        const key = `${relation.relation}\u0000${observableKey(relation.source)}\u0000${observableKey(relation.related)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ relation: relation.relation, source: relation.source, related: relation.related, origin: relation.origin ?? provider.name });
      }
    }
  }
  return out;
}

function csvCell(value: string | number): string {
  const text = String(value);
  // A leading =, +, - or @ would be a formula in a spreadsheet: quote it as text.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) || safe !== text ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The table as CSV: one row per observable, one column per provider. */
export function toCsv(rows: readonly ResultRow[], providers: readonly { id: string; name: string }[]): string {
  const header = ['type', 'value', 'verdict', 'agreement', 'malicious', 'suspicious', 'clean', 'unknown', 'answered', ...providers.map((provider) => provider.id), 'titles', 'first_seen', 'last_seen'];
  const lines = [header.map(csvCell).join(',')];
  for (const row of rows) {
    const verdict = row.verdict;
    const cells = [
      row.observable.type,
      row.observable.value,
      verdict?.disposition_name ?? 'Pending',
      agreementText(verdict),
      verdict?.malicious ?? '',
      verdict?.suspicious ?? '',
      verdict?.clean ?? '',
      verdict?.unknown ?? '',
      verdict?.answered ?? '',
      ...providers.map((provider) => {
        const result = row.providers.find((candidate) => candidate.id === provider.id);
        return result === undefined ? (row.expected.some((expected) => expected.id === provider.id) ? 'pending' : '') : providerStatusText(result);
      }),
      topTitles(row, 5).join(' | '),
      firstSeen(row) ?? '',
      lastSeen(row) ?? '',
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The whole answer in the non-streamed shape of POST /enrich/observables. */
export function toAnswer(results: Results): unknown {
  return {
    data: {
      observables: results.rows.map((row) => ({ ...row.observable, ...(row.verdict === undefined ? {} : { verdict: row.verdict }), providers: row.providers })),
      withheld: results.withheld,
    },
  };
}
