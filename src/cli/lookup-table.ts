// The readable answer of `ctr-relay lookup`: per observable, its consensus first, then one short
// line per provider (verdict, counts, top titles; the error or why it was skipped). Refer links
// only with --links, only for providers that know something, one per line.
import type { AnswerView, ConsensusView, ObservableResultView, ProviderResultView } from './answer-view.js';
import { knowsSomething } from './answer-view.js';
import type { Palette } from './palette.js';

export interface TableOptions {
  palette: Palette;
  /** Print refer links under the providers that know something. */
  links: boolean;
  /** The widest a line may be (the terminal's width); titles and messages are shortened to fit. */
  width: number;
}

/** At least this much room for titles or a message, however narrow the terminal says it is. */
const MIN_TEXT = 24;

function paint(name: string, palette: Palette): string {
  switch (name) {
    case 'Malicious':
      return palette.red(palette.bold(name));
    case 'Suspicious':
      return palette.yellow(palette.bold(name));
    case 'Clean':
      return palette.green(name);
    case 'error':
      return palette.red(name);
    case 'skipped':
      return palette.dim(name);
    default:
      return name;
  }
}

/** Pads before colouring, so ANSI codes never count as width. */
function cell(text: string, width: number, colour: (text: string) => string = (same) => same): string {
  return colour(text) + ' '.repeat(Math.max(0, width - text.length));
}

export function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  return `${flat.slice(0, Math.max(1, max - 1)).trimEnd()}…`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** "2 malicious, 1 unknown; 3 of 4 answered": how much the providers agree. */
export function describeConsensus(verdict: ConsensusView, listed: number): string {
  const parts = (['malicious', 'suspicious', 'clean', 'unknown'] as const).filter((name) => verdict[name] > 0).map((name) => `${verdict[name]} ${name}`);
  const answered = `${verdict.answered} of ${plural(listed, 'provider')} answered`;
  return parts.length === 0 ? answered : `${parts.join(', ')}; ${answered}`;
}

function providerState(provider: ProviderResultView): string {
  if (provider.status !== 'ok') return provider.status;
  return provider.verdict?.disposition_name ?? (knowsSomething(provider) ? 'no verdict' : 'nothing known');
}

function counts(provider: ProviderResultView): string {
  const known = provider.counts;
  if (known === undefined) return '';
  const parts = [];
  if (known.judgements > 0) parts.push(plural(known.judgements, 'judgement'));
  if (known.sightings > 0) parts.push(plural(known.sightings, 'sighting'));
  if (known.indicators > 0) parts.push(plural(known.indicators, 'indicator'));
  return parts.join(', ');
}

function providerDetail(provider: ProviderResultView): string {
  if (provider.status === 'error') return provider.error === undefined ? '' : `${provider.error.code}: ${provider.error.message}`;
  if (provider.status === 'skipped') return provider.reason ?? '';
  // Observe answered but refer failed: the links are missing, and the line says why.
  const referError = provider.error === undefined ? '' : `links: ${provider.error.code}`;
  return [counts(provider), referError, (provider.titles ?? []).join('; ')].filter((part) => part !== '').join(' · ');
}

function renderObservable(observable: ObservableResultView, options: TableOptions, lines: string[]): void {
  const { palette, width } = options;
  const consensus = observable.verdict.disposition_name;
  lines.push(`${palette.bold(observable.value)}  ${palette.dim(observable.type)}  ${paint(consensus, palette)}  ${palette.dim(describeConsensus(observable.verdict, observable.providers.length))}`);
  if (observable.providers.length === 0) {
    lines.push(palette.dim('  no provider supports this type'));
    return;
  }
  const nameWidth = Math.max(...observable.providers.map((provider) => provider.name.length));
  const states = observable.providers.map(providerState);
  const stateWidth = Math.max(...states.map((state) => state.length));
  observable.providers.forEach((provider, index) => {
    const state = states[index] ?? '';
    const lead = `  ${cell(provider.name, nameWidth, palette.bold)}  ${cell(state, stateWidth, (text) => paint(text, palette))}`;
    const used = 2 + nameWidth + 2 + stateWidth + 2;
    const detail = shorten(providerDetail(provider), Math.max(MIN_TEXT, width - used));
    const colour = provider.status === 'error' ? palette.red : provider.status === 'skipped' ? palette.dim : (same: string) => same;
    lines.push(detail === '' ? lead.trimEnd() : `${lead}  ${colour(detail)}`);
    if (options.links && knowsSomething(provider)) {
      for (const link of provider.links ?? []) lines.push(`      > ${link.title}: ${palette.cyan(link.url)}`);
    }
  });
}

export function renderLookupTable(answer: AnswerView, options: TableOptions): string {
  const lines: string[] = [];
  for (const observable of answer.observables) {
    if (lines.length > 0) lines.push('');
    renderObservable(observable, options, lines);
  }
  if (answer.observables.length === 0) lines.push(options.palette.dim('nothing was looked up'));
  const hidden = options.links ? 0 : answer.observables.reduce((total, observable) => total + observable.providers.filter(knowsSomething).reduce((sum, provider) => sum + (provider.links?.length ?? 0), 0), 0);
  if (hidden > 0) lines.push('', options.palette.dim(`${hidden} refer link${hidden === 1 ? '' : 's'} not shown: add --links`));
  return `${lines.join('\n')}\n`;
}
