// `ctr-relay mcp` driven by the MCP SDK's own client over stdio (Client + StdioClientTransport),
// against fake providers on loopback: the tools are listed with their input schemas, each is
// called, and failures are tool errors with a message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { pulsediveHandler, PULSEDIVE_TEST_KEY } from '../src/providers/pulsedive/test-support/scenario.js';
import { cybercrimeTrackerScenario } from '../src/providers/cybercrime-tracker/test-support/scenario.js';
import { CLI_MAIN, EMPTY_DIRECTORY } from './helpers/cli.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.js';

const TSX = import.meta.resolve('tsx');

interface EnrichContent {
  data: {
    observables: { type: string; value: string; verdict: { disposition_name: string; answered: number }; providers: { id: string; status: string; reason?: string; ctim?: unknown }[] }[];
    withheld: { type: string; value: string; reason: string }[];
  };
}

function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
}

describe('ctr-relay mcp over stdio', () => {
  let pulsedive: FakeUpstream;
  let cybercrime: FakeUpstream;
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';
  const clientErrors: Error[] = [];

  before(async () => {
    pulsedive = await startFakeUpstream(pulsediveHandler());
    cybercrime = await startFakeUpstream(cybercrimeTrackerScenario.handler);
    transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', TSX, CLI_MAIN, 'mcp'],
      cwd: EMPTY_DIRECTORY,
      stderr: 'pipe',
      env: {
        PROVIDERS: 'pulsedive,cybercrime-tracker,otx',
        PULSEDIVE_API_URL: pulsedive.url,
        PULSEDIVE_UI_URL: pulsedive.url,
        PULSEDIVE_KEY: PULSEDIVE_TEST_KEY,
        CYBERCRIME_TRACKER_URL: cybercrime.url,
        // OTX_KEY unset: otx is listed as skipped, never called.
        LOG_LEVEL: 'info',
      },
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    client = new Client({ name: 'ctr-relay-test', version: '1.0.0' });
    client.onerror = (error) => clientErrors.push(error);
    await client.connect(transport);
  });

  after(async () => {
    await client.close();
    await Promise.all([pulsedive.close(), cybercrime.close()]);
  });

  test('lists the three tools, each with a described input schema', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['enrich_observables', 'extract_observables', 'pivot_links']);
    for (const tool of tools) {
      assert.ok((tool.description ?? '').length > 40, `${tool.name} is described`);
      assert.equal(tool.inputSchema.type, 'object');
      const properties = tool.inputSchema.properties as Record<string, { description?: string }>;
      for (const [name, property] of Object.entries(properties)) assert.ok((property.description ?? '') !== '', `${tool.name}.${name} is described`);
    }
    const enrich = tools.find((tool) => tool.name === 'enrich_observables')!;
    assert.deepEqual(Object.keys(enrich.inputSchema.properties ?? {}).sort(), ['include_ctim', 'observables', 'providers', 'text']);
  });

  test('extract_observables: refanged observables, withheld ones apart, no provider called', async () => {
    const calls = pulsedive.requests.length + cybercrime.requests.length;
    const result = (await client.callTool({ name: 'extract_observables', arguments: { text: 'C2 at hxxp://bad.example[.]com/x from 192.168.0.9 and 203.0.113[.]7' } })) as CallToolResult;
    assert.equal(result.isError, undefined);
    const content = result.structuredContent as { data: { observables: { type: string; value: string }[]; withheld: { value: string; reason: string }[] } };
    assert.deepEqual(content.data.observables, [
      { type: 'url', value: 'http://bad.example.com/x' },
      { type: 'ip', value: '203.0.113.7' },
    ]);
    assert.deepEqual(
      content.data.withheld.map((item) => item.value),
      ['192.168.0.9'],
    );
    assert.match(textOf(result), /2 observable\(s\): http:\/\/bad\.example\.com\/x \(url\), 203\.0\.113\.7 \(ip\)/);
    assert.match(textOf(result), /Withheld \(never sent to a provider\): 192\.168\.0\.9 \(private address/);
    assert.equal(pulsedive.requests.length + cybercrime.requests.length, calls);
  });

  test('enrich_observables: the lookup answer as structured content, and a short summary', async () => {
    const result = (await client.callTool({
      name: 'enrich_observables',
      arguments: { observables: [{ type: 'ip', value: '198.51.100.7' }], text: 'also cdn-update.example.net and 10.9.8.7' },
    })) as CallToolResult;
    assert.equal(result.isError, undefined, textOf(result));
    const content = result.structuredContent as unknown as EnrichContent;
    assert.deepEqual(
      content.data.observables.map((observable) => `${observable.type}:${observable.value}`),
      ['ip:198.51.100.7', 'domain:cdn-update.example.net'],
    );
    const ip = content.data.observables[0]!;
    assert.deepEqual(
      ip.providers.map((provider) => [provider.id, provider.status]),
      [
        ['pulsedive', 'ok'],
        ['cybercrime-tracker', 'ok'],
        ['otx', 'skipped'],
      ],
    );
    assert.equal(ip.providers[2]?.reason, 'no credentials');
    assert.equal(ip.providers[0]?.ctim, undefined, 'no CTIM unless asked for');
    assert.ok(['Malicious', 'Suspicious'].includes(ip.verdict.disposition_name));
    assert.deepEqual(content.data.withheld, [{ type: 'ip', value: '10.9.8.7', reason: 'private address (RFC 1918)' }]);
    const text = textOf(result);
    assert.match(text, /^198\.51\.100\.7 \(ip\): (Malicious|Suspicious) \(/m);
    assert.match(text, /^ {2}- AlienVault OTX: skipped: no credentials$/m);
    assert.ok(!pulsedive.requests.some((request) => request.url.includes('10.9.8.7')), 'a withheld value is never sent');

    const withCtim = (await client.callTool({ name: 'enrich_observables', arguments: { observables: [{ type: 'ip', value: '198.51.100.7' }], providers: ['pulsedive'], include_ctim: true } })) as CallToolResult;
    const ctimContent = withCtim.structuredContent as unknown as EnrichContent;
    assert.deepEqual(
      ctimContent.data.observables[0]?.providers.map((provider) => provider.id),
      ['pulsedive'],
    );
    assert.ok(ctimContent.data.observables[0]?.providers[0]?.ctim !== undefined);
  });

  test('pivot_links: refer links only, no observe call', async () => {
    const before = pulsedive.requests.length;
    const result = (await client.callTool({ name: 'pivot_links', arguments: { observables: [{ type: 'domain', value: 'pivot.example.org' }] } })) as CallToolResult;
    assert.equal(result.isError, undefined, textOf(result));
    const content = result.structuredContent as { data: { observables: { value: string; links: { provider: string; title: string; url: string }[] }[] } };
    const links = content.data.observables[0]?.links ?? [];
    // OTX's links need no key (its refer builds them), so it gives them though its lookups are skipped.
    const providers = [...new Set(links.map((link) => link.provider))];
    assert.deepEqual(providers, ['pulsedive', 'cybercrime-tracker', 'otx'], 'in mount order');
    assert.ok(links.some((link) => link.url.startsWith(pulsedive.url)));
    const made = pulsedive.requests.slice(before).map((request) => request.url);
    assert.ok(!made.some((url) => url.includes('get=links')), `no observe call: ${made.join(', ')}`);
    assert.match(textOf(result), /^pivot\.example\.org \(domain\): \d+ link\(s\)$/m);
    const invalid = (await client.callTool({ name: 'pivot_links', arguments: { observables: [{ type: 'ip', value: '999.1.1.1' }] } })) as CallToolResult;
    assert.deepEqual((invalid.structuredContent as { data: { observables: unknown[] } }).data.observables, [], 'an invalid value gets no links');
  });

  test('mistakes are tool errors with a message, never a stack', async () => {
    const nothing = (await client.callTool({ name: 'enrich_observables', arguments: {} })) as CallToolResult;
    assert.equal(nothing.isError, true);
    assert.match(textOf(nothing), /Give observables \(a list of \{type, value\}\) or text/);
    const unknown = (await client.callTool({ name: 'enrich_observables', arguments: { text: '203.0.113.9', providers: ['nobody'] } })) as CallToolResult;
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /Unknown provider\(s\) nobody; configured: pulsedive, cybercrime-tracker, otx/);
    const badType = (await client.callTool({ name: 'pivot_links', arguments: { observables: [{ type: 'hash', value: 'x' }] } })) as CallToolResult;
    assert.equal(badType.isError, true);
    assert.match(textOf(badType), /Input validation error/);
    for (const result of [nothing, unknown, badType]) assert.doesNotMatch(textOf(result), /\n\s+at /);
  });

  test('stdout carries the protocol alone; notes and logs go to stderr', () => {
    assert.deepEqual(clientErrors, [], 'every line the client read was a protocol message');
    assert.match(stderr, /skipped AlienVault OTX: set OTX_KEY/);
    assert.match(stderr, /serving pulsedive, cybercrime-tracker, otx on stdio/);
  });
});

describe('ctr-relay mcp start-up', () => {
  test('a bad setting is a usage error on stderr (exit 2)', async () => {
    const { runCli } = await import('./helpers/cli.js');
    const result = await runCli(['mcp', '--providers', 'nobody']);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /PROVIDERS accepts a comma list of .* \(unknown: nobody\)/);
  });

  test('requests written before standard input closes are still answered', async () => {
    const { spawnCli } = await import('./helpers/cli.js');
    const slow = await startFakeUpstream(async (request) => ({ ...(await cybercrimeTrackerScenario.handler(request)), delayMs: 300 }));
    try {
      const child = spawnCli(['mcp'], { PROVIDERS: 'cybercrime-tracker', CYBERCRIME_TRACKER_URL: slow.url });
      let stdout = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      const messages = [
        { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pipe', version: '1' } } },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'enrich_observables', arguments: { text: '198.51.100.20' } } },
      ];
      child.stdin?.end(messages.map((message) => `${JSON.stringify(message)}\n`).join(''));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
      assert.equal(code, 0);
      const answers = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: number; result: { structuredContent?: EnrichContent } });
      assert.deepEqual(answers.map((answer) => answer.id), [1, 2]);
      assert.equal(answers[1]?.result.structuredContent?.data.observables[0]?.providers[0]?.status, 'ok');
      assert.equal(slow.requests.length, 1);
    } finally {
      await slow.close();
    }
  });

  test('exits 0 when the client closes standard input', async () => {
    const { spawnCli } = await import('./helpers/cli.js');
    const child = spawnCli(['mcp'], { PROVIDERS: 'cybercrime-tracker' });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await new Promise<void>((resolve) => {
      const check = () => (stderr.includes('on stdio') ? resolve() : setTimeout(check, 50));
      check();
    });
    child.stdin?.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
    assert.equal(code, 0, stderr);
  });
});
