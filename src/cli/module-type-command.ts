// `ctr-relay module-type <id> --url <public url>`: prints the module type JSON for Threat Response/XDR.
import { PROVIDERS } from '../providers/registry.js';
import { parseCommandArgs, type Command } from './command.js';
import { DEFAULT_JWKS_HOST, buildModuleType } from './module-type.js';
import { UsageError } from './usage-error.js';

function checkedUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.protocol === 'https:' || url.protocol === 'http:') return text;
  } catch {
    // reported below
  }
  throw new UsageError(`--url accepts an absolute http:// or https:// URL (got ${JSON.stringify(text)})`);
}

export const moduleTypeCommand: Command = {
  name: 'module-type',
  summary: 'Print the module type JSON that registers a module in Threat Response/XDR',
  help: `Usage: ctr-relay module-type <id> --url <public url> [--alg HS256|RS256] [--jwks-host <host>]

Prints the module type (title, descriptions, configuration_spec for the credentials and the
entities limit, capabilities, supported APIs, auth type) for one module.

  <id>                 ${PROVIDERS.map((provider) => provider.id).join(', ')}
  --url <url>          The relay's public URL (PUBLIC_URL when absent); the module URL is <url>/<id>
  --alg <alg>          HS256 (tokens signed with your SECRET_KEY, the default) or RS256 (tokens
                       signed by Threat Response, keys from its JWKS host)
  --jwks-host <host>   With RS256: the region's host (default ${DEFAULT_JWKS_HOST})
  -h, --help           Show this help`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(
      args,
      { url: { type: 'string' }, alg: { type: 'string' }, 'jwks-host': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      true,
    );
    if (values.help === true) {
      console.log(this.help);
      return 0;
    }
    const known = PROVIDERS.map((provider) => provider.id).join(', ');
    const [id, ...extra] = positionals;
    if (id === undefined) throw new UsageError(`module-type needs a module id: ${known}`);
    if (extra.length > 0) throw new UsageError(`module-type takes one module id (got ${positionals.join(' ')})`);
    const provider = PROVIDERS.find((candidate) => candidate.id === id);
    if (provider === undefined) throw new UsageError(`Unknown module ${JSON.stringify(id)}; known: ${known}`);
    const url = values.url ?? process.env.PUBLIC_URL;
    if (url === undefined || url.trim() === '') throw new UsageError('--url is required (or set PUBLIC_URL)');
    const algorithm = (values.alg ?? 'HS256').toUpperCase();
    if (algorithm !== 'HS256' && algorithm !== 'RS256') throw new UsageError(`--alg accepts HS256 or RS256 (got ${JSON.stringify(values.alg)})`);
    if (values['jwks-host'] !== undefined && algorithm !== 'RS256') throw new UsageError('--jwks-host goes with --alg RS256');
    const moduleType = buildModuleType(provider, {
      url: checkedUrl(url.trim()),
      algorithm,
      ...(values['jwks-host'] === undefined ? {} : { jwksHost: values['jwks-host'] }),
    });
    process.stdout.write(`${JSON.stringify(moduleType, null, 2)}\n`);
    return 0;
  },
};
