// `ctr-relay lookup`: the enrichment core in-process, with keys from the environment (or .env),
// through the same upstream gate as the server (cache, single-flight, rate limits, cool-downs;
// shared with the server through Redis when REDIS_URL is set).
import type { Observable } from '../core/observables.js';
import { OBSERVABLE_TYPES } from '../core/validators.js';
import { PROVIDERS } from '../providers/registry.js';
import { exitStatusOf, type AnswerView, type ObservableResultView, type WithheldView } from './answer-view.js';
import { parseCommandArgs, type Command } from './command.js';
import { openEnrichment } from './enrichment-core.js';
import { openInProcess, settingsFor } from './in-process.js';
import { FORMATS, doneLine, providerLine, renderCsv, renderJson, verdictLine, type Format } from './lookup-formats.js';
import { readLookupInput } from './lookup-input.js';
import { renderLookupTable } from './lookup-table.js';
import { paletteFor } from './palette.js';
import { Progress } from './progress.js';
import { UsageError } from './usage-error.js';

const CREDENTIAL_VARIABLES = 'XFORCE_KEY and XFORCE_PASSWORD, PULSEDIVE_KEY, OTX_KEY, C1FAPP_KEY';

function formatOf(values: { format?: string | undefined; json?: boolean | undefined }): Format {
  if (values.json === true && values.format !== undefined && values.format !== 'json') throw new UsageError('--json is --format json; give one or the other');
  const format = values.json === true ? 'json' : (values.format?.trim().toLowerCase() ?? 'table');
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format accepts ${FORMATS.join(', ')} (got ${JSON.stringify(values.format)})`);
  return format as Format;
}

function reportWithheld(withheld: readonly WithheldView[]): void {
  for (const item of withheld) console.error(`withheld ${item.value} (${item.type}): ${item.reason}`);
}

export const lookupCommand: Command = {
  name: 'lookup',
  summary: 'Look values or any text up with every provider at once; one verdict per observable',
  help: `Usage: ctr-relay lookup [<value>…] [-] [--file <path>]… [options]

Looks every value up with every provider that supports it, in this process (no server, no token),
through the same cache, call sharing, rate limits and cool-downs as the server (shared with it
through Redis when REDIS_URL is set), and prints one consensus verdict per observable, then a line
per provider. Progress and notes go to stderr; the answer alone to stdout.

Input: values as arguments; - reads standard input; --file reads a file. Text of any kind (an
e-mail, a log, a report) works: its observables are extracted and defanged ones (hxxp, [.])
refanged. Private addresses and internal domains are withheld, never sent (listed on stderr;
PRIVATE_OBSERVABLES=send turns this off, INTERNAL_DOMAINS adds your own domains).

Credentials come from the environment or a .env file: ${CREDENTIAL_VARIABLES}.
A provider without its credentials is skipped (CyberCrime Tracker needs none).

Options:
  --format <format>      table (default), json (the HTTP API's answer), ndjson (its streaming
                         lines, as they arrive) or csv (a row per observable and provider)
  --json                 The same as --format json
  --file <path>          Read text from a file (may be repeated)
  --type <type>          Every value is of this type (${OBSERVABLE_TYPES.join(', ')}); files and
                         standard input then hold one value per line, nothing is extracted
  --providers <id,id>    Only these providers (${PROVIDERS.map((provider) => provider.id).join(', ')})
  --links                Show the refer links of providers that know something (table)
  --no-ctim              Leave each provider's CTIM answer out of json and ndjson
  -h, --help             Show this help

Exit status: 0 nothing suspicious, 3 suspicious (an observable's verdict is Suspicious), 4
malicious (one is Malicious), 1 failed (nothing could be looked up, or an observable got no answer
from any provider), 2 usage mistake. Malicious wins over suspicious, either over failed.

Examples:
  ctr-relay lookup 198.51.100.7 example.com
  ctr-relay lookup --file suspicious-mail.eml --format csv > verdicts.csv
  grep -h sshd /var/log/auth.log | ctr-relay lookup - --providers otx,pulsedive
  ctr-relay lookup 'hxxp://c2[.]example[.]net/gate.php' --json`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        type: { type: 'string' },
        providers: { type: 'string' },
        json: { type: 'boolean' },
        format: { type: 'string' },
        file: { type: 'string', multiple: true },
        links: { type: 'boolean' },
        'no-ctim': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      true,
    );
    if (values.help === true) {
      console.log(this.help);
      return 0;
    }
    const format = formatOf(values);
    if (positionals.length === 0 && (values.file ?? []).length === 0) {
      throw new UsageError('lookup needs values, a --file or - (standard input), e.g. ctr-relay lookup 198.51.100.7');
    }
    const settings = settingsFor(values.providers, PROVIDERS);
    const runtime = await openInProcess(settings, PROVIDERS);
    try {
      const enrichment = openEnrichment(runtime);
      const input = await readLookupInput({ positionals, files: values.file ?? [], type: values.type }, (text) => enrichment.extract(text));
      for (const ignored of input.ignored) {
        const type = values.type?.trim().toLowerCase();
        console.error(`skipped ${JSON.stringify(ignored)}: ${type === undefined ? 'no observable in it' : `not a valid ${type}`}`);
      }
      // Guard the values given as they are too; extraction already withheld its own.
      const guarded = enrichment.guard(input.observables);
      const withheld = [...input.withheld, ...guarded.withheld];
      reportWithheld(withheld);
      if (guarded.kept.length === 0) {
        console.error('nothing to look up');
        if (format === 'json') process.stdout.write(renderJson({ observables: [], withheld }));
        if (format === 'ndjson') process.stdout.write(doneLine(withheld));
        if (format === 'csv') process.stdout.write(renderCsv({ observables: [], withheld }));
        return 1;
      }
      for (const note of runtime.notes) console.error(note);

      const supporting = (observable: Observable) => runtime.modules.filter((module) => module.provider.supportedTypes.includes(observable.type)).length;
      const progress = new Progress(guarded.kept.reduce((total, observable) => total + supporting(observable), 0));
      const started = performance.now();
      progress.start();
      // Lists longer than one HTTP request may carry go in turns of MAX_OBSERVABLES, each under its own deadline.
      const observables: ObservableResultView[] = [];
      for (let start = 0; start < guarded.kept.length; start += settings.MAX_OBSERVABLES) {
        const answer = await enrichment.enrich(guarded.kept.slice(start, start + settings.MAX_OBSERVABLES), {
          ctim: values['no-ctim'] !== true && format !== 'table' && format !== 'csv',
          onEvent: (event) => {
            if ('provider' in event) {
              progress.finished(`${event.provider.name} ${event.observable.value}`, performance.now() - started);
              if (format === 'ndjson') process.stdout.write(providerLine(event.observable, event.provider));
            } else if ('verdict' in event && format === 'ndjson') {
              process.stdout.write(verdictLine(event.observable, event.verdict));
            }
          },
        });
        observables.push(...answer.observables);
      }
      progress.end();

      const answer: AnswerView = { observables, withheld };
      if (format === 'json') process.stdout.write(renderJson(answer));
      else if (format === 'ndjson') process.stdout.write(doneLine(withheld));
      else if (format === 'csv') process.stdout.write(renderCsv(answer));
      else {
        const width = process.stdout.columns ?? (Number(process.env.COLUMNS) || 120);
        process.stdout.write(renderLookupTable(answer, { palette: paletteFor(process.stdout), links: values.links === true, width }));
      }
      return exitStatusOf(answer);
    } finally {
      await runtime.close();
    }
  },
};
