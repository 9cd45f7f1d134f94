// `ctr-relay lookup`: the modules run in-process, with credentials from the environment (or .env),
// through the same code as the relay's observe and refer endpoints.
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { mountModules } from '../app.js';
import { isValidObservable, isObservableType, OBSERVABLE_TYPES, type ObservableType } from '../core/validators.js';
import type { Observable } from '../core/observables.js';
import { lookup, type MountedModule } from '../core/relay.js';
import { SettingsError, loadSettings, type Settings } from '../core/settings.js';
import { PROVIDERS } from '../providers/registry.js';
import { parseCommandArgs, type Command } from './command.js';
import { credentialsFromEnv } from './credentials.js';
import { guessObservableType } from './guess-type.js';
import { renderLookupTable } from './lookup-table.js';
import { summariseLookup, type ProviderLookup } from './lookup-summary.js';
import { paletteFor } from './palette.js';
import { Progress } from './progress.js';
import { UsageError } from './usage-error.js';

const CREDENTIAL_VARIABLES = 'XFORCE_KEY and XFORCE_PASSWORD, PULSEDIVE_KEY, OTX_KEY, C1FAPP_KEY';

function readObservables(values: string[], type: string | undefined): Observable[] {
  if (values.length === 0) throw new UsageError('lookup needs at least one value, e.g. ctr-relay lookup 198.51.100.7');
  const forced = type?.trim().toLowerCase();
  if (forced !== undefined && !isObservableType(forced)) throw new UsageError(`--type accepts ${OBSERVABLE_TYPES.join(', ')} (got ${JSON.stringify(type)})`);
  const observables: Observable[] = [];
  for (const raw of values) {
    const value = raw.trim();
    const observableType: ObservableType = (forced as ObservableType | undefined) ?? guessObservableType(value);
    if (!isValidObservable(observableType, value)) {
      console.error(`skipped ${JSON.stringify(raw)}: not a valid ${observableType}`);
      continue;
    }
    if (!observables.some((known) => known.type === observableType && known.value === value)) observables.push({ type: observableType, value });
  }
  return observables;
}

/** The mounted modules that can run: those needing no credentials, or whose credentials are set. */
function runnableModules(modules: MountedModule[]): { module: MountedModule; credentials: unknown }[] {
  const runnable: { module: MountedModule; credentials: unknown }[] = [];
  for (const module of modules) {
    const found = credentialsFromEnv(module.provider, process.env);
    if (found.status === 'none') runnable.push({ module, credentials: undefined });
    else if (found.status === 'found') runnable.push({ module, credentials: found.credentials });
    else {
      const what = found.status === 'missing' ? 'set' : 'check';
      console.error(`skipped ${module.provider.displayName}: ${what} ${found.variables.join(' and ')} (environment or .env)`);
    }
  }
  return runnable;
}

async function lookUpOne(
  settings: Settings,
  log: FastifyBaseLogger,
  module: MountedModule,
  credentials: unknown,
  observable: Observable,
): Promise<ProviderLookup> {
  const { provider } = module;
  const result: ProviderLookup = { providerId: provider.id, providerName: provider.displayName, observable };
  if (!provider.supportedTypes.includes(observable.type)) return result;
  const options = { settings, credentials, entitiesLimit: settings.CTR_ENTITIES_LIMIT, log, stats: { upstreamCalls: 0, cacheHits: 0 } };
  const [observe, refer] = await Promise.all([lookup(module, 'observe', [observable], options), lookup(module, 'refer', [observable], options)]);
  return { ...result, observe, refer };
}

export const lookupCommand: Command = {
  name: 'lookup',
  summary: 'Look observables up with every provider, in-process, and print what they know',
  help: `Usage: ctr-relay lookup <value>… [--type <type>] [--providers <id,id>] [--json]

Runs the modules in this process (no server, no token) for each value and prints, per value and
provider, the verdict, the number of judgements and sightings, the top titles and refer links.
Progress goes to stderr; the answer alone to stdout.

Credentials come from the environment or a .env file: ${CREDENTIAL_VARIABLES}.
A provider without its credentials is skipped with a note (CyberCrime Tracker needs none).
Provider base URLs and CTR_ENTITIES_LIMIT are read as by the server.

Options:
  --type <type>          The type of every value (${OBSERVABLE_TYPES.join(', ')}); guessed
                         from each value when absent
  --providers <id,id>    Only these modules (${PROVIDERS.map((provider) => provider.id).join(', ')})
  --json                 Print the raw observe and refer answers per provider and value
  -h, --help             Show this help

Exit status: 0 when every lookup answered, 1 when one failed, 2 for a usage mistake.

Examples:
  ctr-relay lookup 198.51.100.7 example.com
  ctr-relay lookup http://c2.example.net/gate.php --providers cybercrime-tracker --json`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      { type: { type: 'string' }, providers: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      true,
    );
    if (values.help === true) {
      console.log(this.help);
      return 0;
    }
    const observables = readObservables(positionals, values.type);
    let settings: Settings;
    try {
      settings = loadSettings({ ...process.env, ...(values.providers === undefined ? {} : { PROVIDERS: values.providers }) }, PROVIDERS);
    } catch (error) {
      if (error instanceof SettingsError) throw new UsageError(error.message);
      throw error;
    }
    if (observables.length === 0) {
      console.error('nothing to look up');
      return 1;
    }

    const modules = mountModules(settings, PROVIDERS);
    try {
      const runnable = runnableModules(modules);
      if (runnable.length === 0) {
        console.error(`no provider can run: set ${CREDENTIAL_VARIABLES}, or include cybercrime-tracker`);
        return 1;
      }
      // Providers' own log lines (warnings) go to stderr, away from the answer.
      const log = pino({ level: process.env.LOG_LEVEL ?? 'error' }, pino.destination(2));
      const supports = (module: MountedModule, observable: Observable) => module.provider.supportedTypes.includes(observable.type);
      const calls = observables.reduce((total, observable) => total + runnable.filter(({ module }) => supports(module, observable)).length, 0);
      const progress = new Progress(calls);
      progress.start();
      const results = await Promise.all(
        observables.flatMap((observable) =>
          runnable.map(async ({ module, credentials }) => {
            const started = performance.now();
            const result = await lookUpOne(settings, log, module, credentials, observable);
            if (supports(module, observable)) progress.finished(`${module.provider.displayName} ${observable.value}`, performance.now() - started);
            return result;
          }),
        ),
      );
      progress.end();

      if (values.json === true) {
        const answers = results
          .filter((result) => result.observe !== undefined)
          .map(({ providerId, observable, observe, refer }) => ({ provider: providerId, observable, observe, refer }));
        process.stdout.write(`${JSON.stringify(answers, null, 2)}\n`);
      } else {
        const table = observables.map((observable) => ({
          observable,
          providers: results.filter((result) => result.observable === observable).map(summariseLookup),
        }));
        process.stdout.write(renderLookupTable(table, paletteFor(process.stdout)));
      }
      const failed = results.some((result) => (result.observe?.errors?.length ?? 0) + (result.refer?.errors?.length ?? 0) > 0);
      return failed ? 1 : 0;
    } finally {
      await Promise.all(modules.map((module) => module.client.close()));
    }
  },
};
