// `ctr-relay mcp`: the Model Context Protocol server on stdio, for AI assistants. Same keys as
// `lookup` (environment or .env), same gate. Stdout carries the protocol alone; notes and logs go
// to stderr. Runs until the client closes standard input (or SIGINT/SIGTERM).
import type { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { PROVIDERS } from '../providers/registry.js';
import { parseCommandArgs, type Command } from './command.js';
import { openEnrichment } from './enrichment-core.js';
import { openInProcess, settingsFor } from './in-process.js';

/** Counts the requests read and the responses written; the function resolves once every request has its answer. */
function trackRequests(transport: StdioServerTransport): () => Promise<void> {
  let pending = 0;
  let wake: (() => void) | undefined;
  const receive = transport.onmessage;
  transport.onmessage = (message) => {
    if ('id' in message && 'method' in message) pending += 1;
    receive?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message) => {
    await send(message);
    if ('id' in message && ('result' in message || 'error' in message)) {
      pending -= 1;
      if (pending <= 0) wake?.();
    }
  };
  return () => (pending <= 0 ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve)));
}

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'Serve the enrichment tools to an AI assistant (Model Context Protocol, stdio)',
  help: `Usage: ctr-relay mcp [--providers <id,id>]

A Model Context Protocol server on standard input and output, for AI assistants (Claude Desktop,
IDE agents, any MCP client): the client starts it and talks to it; nothing listens on the network.
Tools: extract_observables (from any text), enrich_observables (every provider at once, one
consensus verdict per observable), pivot_links (the providers' pages for observables).

Keys come from the environment or a .env file, as for lookup: XFORCE_KEY and XFORCE_PASSWORD,
PULSEDIVE_KEY, OTX_KEY, C1FAPP_KEY. Calls go through the same cache, call sharing, rate limits and
cool-downs as the server (shared with it through Redis when REDIS_URL is set). Logs go to stderr.

Options:
  --providers <id,id>    Only these providers (${PROVIDERS.map((provider) => provider.id).join(', ')})
  -h, --help             Show this help

See docs/mcp.md for a client configuration.`,

  async run(args) {
    const { values } = parseCommandArgs(args, { providers: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, false);
    if (values.help === true) {
      console.log(this.help);
      return 0;
    }
    const settings = settingsFor(values.providers, PROVIDERS);
    // Loaded here, not at the top: the other commands start without the SDK.
    const [{ StdioServerTransport }, { createMcpServer }] = await Promise.all([import('@modelcontextprotocol/sdk/server/stdio.js'), import('../mcp/server.js')]);
    const runtime = await openInProcess(settings, PROVIDERS);
    for (const note of runtime.notes) console.error(note);
    const server = createMcpServer({ enrichment: openEnrichment(runtime), log: runtime.log });
    const transport = new StdioServerTransport();

    const stopped = new Promise<void>((resolve) => {
      const stop = () => resolve();
      // The client closes our standard input when it is done; the transport does not notice that itself.
      process.stdin.once('end', stop);
      process.stdin.once('close', stop);
      transport.onclose = stop;
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.connect(transport);
    const answered = trackRequests(transport);
    console.error(`ctr-relay mcp: serving ${runtime.modules.map((module) => module.provider.id).join(', ')} on stdio`);
    await stopped;
    // Answer what was asked before standard input closed (`printf … | ctr-relay mcp` closes it at once).
    await answered();
    await server.close().catch(() => undefined);
    await runtime.close();
    return 0;
  },
};
