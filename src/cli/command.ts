// The shape of every `ctr-relay` command, and argument parsing that turns mistakes into usage errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

export interface Command {
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** The text of `ctr-relay <name> --help`. */
  help: string;
  /** Resolves to the exit status; `serve` resolves once listening and the server keeps the process. */
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<T extends Options>(args: string[], options: T, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    // parseArgs says what was wrong ("Unknown option '--x'"); keep its words, drop its code.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
