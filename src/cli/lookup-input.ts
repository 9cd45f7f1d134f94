// What `lookup` looks up: values given as arguments, and any text read from files (`--file`) or
// standard input (`-`), from which the enrichment core extracts the observables (refanged).
import { readFile } from 'node:fs/promises';
import type { Observable } from '../core/observables.js';
import { isObservableType, isValidObservable, OBSERVABLE_TYPES, type ObservableType } from '../core/validators.js';
import type { WithheldView } from './answer-view.js';
import { guessObservableType } from './guess-type.js';
import { UsageError } from './usage-error.js';

export interface Extracted {
  observables: Observable[];
  withheld: WithheldView[];
}

/** The enrichment core's extraction (refang, validation, public suffixes, the privacy guard). */
export type Extractor = (text: string) => Extracted;

export interface LookupInput {
  /** The values, `-` for standard input. */
  positionals: readonly string[];
  files: readonly string[];
  type: string | undefined;
}

export interface ReadResult extends Extracted {
  /** Arguments that were neither a valid value nor text holding one, for a note on stderr. */
  ignored: string[];
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new UsageError(`--file ${JSON.stringify(path)} cannot be read (${why})`);
  }
}

/** A value that looks defanged (`hxxp`, `[.]`, `(dot)`, `[@]`…): refanged by extraction, never sent as typed. */
const DEFANGED = /hxxp|fxp|\[|\]|\(\.\)|\{\.\}|\(dot\)|\(at\)|\s/i;

/**
 * Without `--type`, an argument that is exactly one valid value is taken as it is (its type
 * guessed), so `c2.example.net/gate.php` stays a url; anything else, and every file or standard
 * input, is read as text and its observables extracted. With `--type`, every argument is one value
 * of that type and files and standard input hold one value per line.
 */
export async function readLookupInput(input: LookupInput, extract: Extractor, stdin: NodeJS.ReadableStream = process.stdin): Promise<ReadResult> {
  const forced = input.type?.trim().toLowerCase();
  if (forced !== undefined && !isObservableType(forced)) throw new UsageError(`--type accepts ${OBSERVABLE_TYPES.join(', ')} (got ${JSON.stringify(input.type)})`);
  if (input.positionals.length === 0 && input.files.length === 0) {
    throw new UsageError('lookup needs values, a --file or - (standard input), e.g. ctr-relay lookup 198.51.100.7');
  }
  if (input.positionals.filter((value) => value === '-').length > 1) throw new UsageError('- (standard input) may be given once');

  const observables: Observable[] = [];
  const withheld: WithheldView[] = [];
  const ignored: string[] = [];
  const seen = new Set<string>();
  const add = (found: Extracted) => {
    for (const observable of found.observables) {
      const key = `${observable.type}\u0000${observable.value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      observables.push(observable);
    }
    for (const item of found.withheld) {
      const key = `withheld\u0000${item.type}\u0000${item.value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      withheld.push(item);
    }
  };
  const typed = (value: string, type: ObservableType): boolean => {
    if (!isValidObservable(type, value)) return false;
    add({ observables: [{ type, value }], withheld: [] });
    return true;
  };
  const fromText = (text: string) => {
    if (forced === undefined) return add(extract(text));
    for (const line of text.split(/\r?\n/)) {
      const value = line.trim();
      if (value !== '' && !typed(value, forced as ObservableType)) ignored.push(value);
    }
  };

  for (const positional of input.positionals) {
    if (positional === '-') {
      fromText(await readStdin(stdin));
      continue;
    }
    const value = positional.trim();
    if (value === '') continue;
    if (forced !== undefined) {
      if (!typed(value, forced as ObservableType)) ignored.push(positional);
      continue;
    }
    if (!DEFANGED.test(value) && typed(value, guessObservableType(value))) continue;
    const found = extract(positional);
    if (found.observables.length + found.withheld.length === 0) ignored.push(positional);
    else add(found);
  }
  for (const file of input.files) fromText(await readText(file));
  return { observables, withheld, ignored };
}
