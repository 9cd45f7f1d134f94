#!/usr/bin/env node
// `ctr-relay`: serve the relay, look observables up in-process, serve MCP tools, make tokens, print module types.
import { config as loadDotenv } from 'dotenv';
import { PACKAGE_VERSION } from '../core/version.js';
import type { Command } from './command.js';
import { jwtCommand } from './jwt-command.js';
import { lookupCommand } from './lookup-command.js';
import { mcpCommand } from './mcp-command.js';
import { moduleTypeCommand } from './module-type-command.js';
import { serveCommand } from './serve-command.js';
import { UsageError } from './usage-error.js';

const COMMANDS: readonly Command[] = [serveCommand, lookupCommand, mcpCommand, jwtCommand, moduleTypeCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `Usage: ctr-relay <command> [options]

Threat-intelligence relay for Cisco Threat Response / XDR (ctr-relay ${PACKAGE_VERSION}).

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Run "ctr-relay <command> --help" for a command's options. Settings and credentials are read from
the environment and from a .env file in the working directory.`;
}

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const command = COMMANDS.find((candidate) => candidate.name === rest[0]);
    console.log(command === undefined ? overview() : command.help);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(PACKAGE_VERSION);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) throw new UsageError(`Unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((known) => known.name).join(', ')}`);
  return command.run(rest);
}

// Values already in the environment win over .env, as for the server.
loadDotenv({ quiet: true });

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`ctr-relay: ${error.message}\nRun "ctr-relay --help" for usage.`);
      process.exitCode = 2;
      return;
    }
    console.error(`ctr-relay: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
