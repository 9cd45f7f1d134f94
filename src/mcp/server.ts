// The Model Context Protocol server of `ctr-relay mcp`: three tools for AI assistants over the
// enrichment core (extract observables from text, enrich observables, pivot links), with input
// schemas, structured content and tool errors that say what went wrong (never a stack).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod/v4';
import { RelayError } from '../core/errors.js';
import type { Observable } from '../core/observables.js';
import { OBSERVABLE_TYPES } from '../core/validators.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../core/version.js';
import type { AnswerView, ObservableResultView } from '../cli/answer-view.js';
import type { Enrichment, PivotAnswer } from '../cli/enrichment.js';
import { describeConsensus, shorten } from '../cli/lookup-table.js';
import type { Extracted } from '../cli/lookup-input.js';

/** What one call may ask for: enough for a report, small enough for an assistant's context. */
export const MAX_TOOL_OBSERVABLES = 100;
const MAX_TEXT_CHARS = 1_000_000;

const observableSchema = z.object({
  type: z.enum(OBSERVABLE_TYPES).describe('The observable type'),
  value: z.string().min(1).max(4096).describe('The value, e.g. 203.0.113.10, example.com, https://example.com/x, a hash'),
});

const textSchema = z
  .string()
  .max(MAX_TEXT_CHARS)
  .describe('Any text (an e-mail, a log, a report): its ips, domains, urls, e-mail addresses and hashes are extracted, defanged ones (hxxp, [.]) refanged');

export class ToolInputError extends Error {}

function textResult(text: string, structuredContent: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent };
}

function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function listWithheld(withheld: readonly Extracted['withheld'][number][]): string {
  if (withheld.length === 0) return '';
  return `\nWithheld (never sent to a provider): ${withheld.map((item) => `${item.value} (${item.reason})`).join('; ')}`;
}

export function summariseExtraction(found: Extracted): string {
  const head = found.observables.length === 0 ? 'No observables found.' : `${found.observables.length} observable(s): ${found.observables.map((o) => `${o.value} (${o.type})`).join(', ')}`;
  return head + listWithheld(found.withheld);
}

function summariseObservable(observable: ObservableResultView): string {
  const lines = [`${observable.value} (${observable.type}): ${observable.verdict.disposition_name} (${describeConsensus(observable.verdict, observable.providers.length)})`];
  for (const provider of observable.providers) {
    let detail: string;
    if (provider.status === 'error') detail = `error: ${provider.error?.code ?? 'unknown'}: ${provider.error?.message ?? ''}`;
    else if (provider.status === 'skipped') detail = `skipped: ${provider.reason ?? ''}`;
    else {
      const titles = (provider.titles ?? []).slice(0, 3).join('; ');
      detail = `${provider.verdict?.disposition_name ?? 'no verdict'}${titles === '' ? '' : ` (${titles})`}`;
    }
    lines.push(`  - ${provider.name}: ${shorten(detail, 200)}`);
  }
  return lines.join('\n');
}

export function summariseAnswer(answer: AnswerView): string {
  const body = answer.observables.length === 0 ? 'Nothing was looked up.' : answer.observables.map(summariseObservable).join('\n');
  return body + listWithheld(answer.withheld);
}

export function summarisePivots(answer: PivotAnswer): string {
  const lines = answer.observables.map((observable) => {
    const links = observable.links.map((link) => `  - ${link.title}: ${link.url}`);
    const errors = observable.errors.map((error) => `  ! ${error.provider}: ${error.code}: ${error.message}`);
    return [`${observable.value} (${observable.type}): ${observable.links.length} link(s)`, ...links, ...errors].join('\n');
  });
  return (lines.length === 0 ? 'Nothing to pivot on.' : lines.join('\n')) + listWithheld(answer.withheld);
}

export interface McpServerOptions {
  enrichment: Enrichment;
  log: FastifyBaseLogger;
}

export function createMcpServer({ enrichment, log }: McpServerOptions): McpServer {
  const server = new McpServer({ name: PACKAGE_NAME, version: PACKAGE_VERSION }, { capabilities: { tools: {} } });
  const providerIds = enrichment.providers.map((provider) => provider.id);
  const providersSchema = z
    .array(z.string())
    .optional()
    .describe(`Only these providers (default: all configured): ${enrichment.providers.map((provider) => `${provider.id} (${provider.name})`).join(', ')}`);

  /** The observables a call names: its list, and those extracted from its text; withheld ones apart. */
  const observablesOf = (args: { observables?: Observable[] | undefined; text?: string | undefined }): Extracted => {
    const given = args.observables ?? [];
    if (given.length === 0 && (args.text === undefined || args.text.trim() === '')) throw new ToolInputError('Give observables (a list of {type, value}) or text to extract them from.');
    const found = args.text === undefined ? { observables: [], withheld: [] } : enrichment.extract(args.text);
    const seen = new Set<string>();
    const observables: Observable[] = [];
    for (const observable of [...given, ...found.observables]) {
      const key = `${observable.type}\u0000${observable.value}`;
      if (!seen.has(key)) {
        seen.add(key);
        observables.push(observable);
      }
    }
    if (observables.length > MAX_TOOL_OBSERVABLES) throw new ToolInputError(`Too many observables: ${observables.length}; at most ${MAX_TOOL_OBSERVABLES} in one call.`);
    return { observables, withheld: found.withheld };
  };
  const checkProviders = (providers: string[] | undefined): void => {
    const unknown = (providers ?? []).filter((id) => !providerIds.includes(id));
    if (unknown.length > 0) throw new ToolInputError(`Unknown provider(s) ${unknown.join(', ')}; configured: ${providerIds.join(', ')}.`);
  };
  /** Runs a tool; what goes wrong becomes a tool error with a message, the details (no stack) on stderr. */
  const guarded = async (tool: string, work: () => Promise<CallToolResult>): Promise<CallToolResult> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ToolInputError) return toolError(error.message);
      if (error instanceof RelayError) return toolError(`${error.code}: ${error.message}`);
      log.error({ tool, errorType: error instanceof Error ? error.name : typeof error }, 'unexpected error in an MCP tool');
      return toolError(`${tool} failed unexpectedly; the server's log (stderr) has details.`);
    }
  };

  server.registerTool(
    'extract_observables',
    {
      title: 'Extract observables from text',
      description:
        'Finds the observables (ip, ipv6, domain, url, email, md5, sha1, sha256) in any text, refangs defanged ones, and lists separately those the privacy guard withholds (private addresses, internal domains), which are never sent to a provider. Calls no provider.',
      inputSchema: { text: textSchema },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ text }) =>
      guarded('extract_observables', async () => {
        const found = enrichment.extract(text);
        return textResult(summariseExtraction(found), { data: { observables: found.observables, withheld: found.withheld } });
      }),
  );

  server.registerTool(
    'enrich_observables',
    {
      title: 'Enrich observables with every provider',
      description:
        'Looks observables up with every configured threat-intelligence provider at once (IBM X-Force Exchange, Pulsedive, CyberCrime Tracker, AlienVault OTX, C1fApp) and gives one consensus verdict per observable (the most severe any provider gave, with how many gave each), then each provider\'s verdict, counts, top titles, first/last seen and pivot links. Give a list of observables, or text to extract them from (or both). Private and internal values are withheld, never sent.',
      inputSchema: {
        observables: z.array(observableSchema).max(MAX_TOOL_OBSERVABLES).optional().describe('The observables to look up, each {type, value}'),
        text: textSchema.optional(),
        providers: providersSchema,
        include_ctim: z.boolean().optional().describe("Also return each provider's full CTIM answer (large; default false)"),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (args, extra) =>
      guarded('enrich_observables', async () => {
        checkProviders(args.providers);
        const { observables, withheld } = observablesOf(args);
        const answer = await enrichment.enrich(observables, { providers: args.providers, ctim: args.include_ctim === true, signal: extra.signal });
        const combined: AnswerView = { observables: answer.observables, withheld: [...withheld, ...answer.withheld] };
        return textResult(summariseAnswer(combined), { data: { observables: combined.observables, withheld: combined.withheld } });
      }),
  );

  server.registerTool(
    'pivot_links',
    {
      title: 'Pivot links for observables',
      description:
        "Gives each provider's links to look further into observables (the provider's pages for them), without looking them up. Give a list of observables, or text to extract them from (or both).",
      inputSchema: {
        observables: z.array(observableSchema).max(MAX_TOOL_OBSERVABLES).optional().describe('The observables, each {type, value}'),
        text: textSchema.optional(),
        providers: providersSchema,
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async (args, extra) =>
      guarded('pivot_links', async () => {
        checkProviders(args.providers);
        const { observables, withheld } = observablesOf(args);
        const answer = await enrichment.pivotLinks(observables, { providers: args.providers, signal: extra.signal });
        const combined: PivotAnswer = { observables: answer.observables, withheld: [...withheld, ...answer.withheld] };
        return textResult(summarisePivots(combined), { data: { observables: combined.observables, withheld: combined.withheld } });
      }),
  );
  return server;
}
