// The readable answer of `ctr-relay lookup`: per observable, a row per provider (verdict,
// judgements, sightings), its top titles, refer links and errors under it.
import type { Observable } from '../core/observables.js';
import type { Palette } from './palette.js';
import type { LookupSummary } from './lookup-summary.js';

export interface ObservableSummaries {
  observable: Observable;
  providers: LookupSummary[];
}

function paint(verdict: string, palette: Palette): string {
  switch (verdict) {
    case 'Malicious':
      return palette.red(palette.bold(verdict));
    case 'Suspicious':
      return palette.yellow(verdict);
    case 'Clean':
      return palette.green(verdict);
    default:
      return verdict;
  }
}

/** Pads before colouring, so ANSI codes never count as width. */
function cell(text: string, width: number, colour: (text: string) => string = (same) => same, alignRight = false): string {
  const padding = ' '.repeat(Math.max(0, width - text.length));
  return alignRight ? padding + colour(text) : colour(text) + padding;
}

export function renderLookupTable(observables: readonly ObservableSummaries[], palette: Palette): string {
  const lines: string[] = [];
  const headers = ['Provider', 'Verdict', 'Judgements', 'Sightings'] as const;
  for (const { observable, providers } of observables) {
    if (lines.length > 0) lines.push('');
    lines.push(`${palette.bold(observable.value)}  ${palette.dim(observable.type)}`);
    if (providers.length === 0) {
      lines.push(palette.dim('  no provider ran'));
      continue;
    }
    const nameWidth = Math.max(headers[0].length, ...providers.map((provider) => provider.providerName.length));
    const verdictWidth = Math.max(headers[1].length, 'not supported'.length);
    lines.push(
      `  ${palette.dim(cell(headers[0], nameWidth))}  ${palette.dim(cell(headers[1], verdictWidth))}  ${palette.dim(headers[2])}  ${palette.dim(headers[3])}`,
    );
    for (const provider of providers) {
      const name = cell(provider.providerName, nameWidth, palette.bold);
      if (!provider.supported) {
        lines.push(`  ${name}  ${palette.dim(`not supported (${observable.type})`)}`);
        continue;
      }
      const failed = provider.errors.length > 0 && provider.verdict === undefined && provider.judgements + provider.sightings === 0;
      const verdict = failed ? 'error' : (provider.verdict ?? '-');
      const verdictCell = failed ? cell(verdict, verdictWidth, palette.red) : cell(verdict, verdictWidth, (text) => paint(text, palette));
      const count = (value: number, width: number) => cell(String(value), width, value === 0 ? palette.dim : (same) => same, true);
      lines.push(`  ${name}  ${verdictCell}  ${count(provider.judgements, headers[2].length)}  ${count(provider.sightings, headers[3].length)}`);
      for (const title of provider.titles) lines.push(`      - ${title}`);
      for (const link of provider.links) lines.push(`      > ${link.title}: ${palette.cyan(link.url)}`);
      for (const error of provider.errors) lines.push(`      ${palette.red(`! ${error.code}: ${error.message}`)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
