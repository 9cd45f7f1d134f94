// Runs `ctr-relay` as a child process, as an operator would: from an empty working directory
// (no stray .env) with only the environment the test gives.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export const EMPTY_DIRECTORY = mkdtempSync(join(tmpdir(), 'ctr-relay-cli-'));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: readonly string[], env: Record<string, string | undefined> = {}, cwd = EMPTY_DIRECTORY): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, CLI_MAIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'error', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** `input` is written to the command's standard input (closed at once without it). */
export async function runCli(args: readonly string[], env: Record<string, string | undefined> = {}, cwd = EMPTY_DIRECTORY, input?: string): Promise<CliResult> {
  const child = spawnCli(args, env, cwd);
  child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { status, stdout, stderr };
}
