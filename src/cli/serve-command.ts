// `ctr-relay serve`: the relay server, as `npm start`.
import type { Command } from './command.js';
import { parseCommandArgs } from './command.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the relay server (the same as npm start)',
  help: `Usage: ctr-relay serve [--port <port>] [--host <host>] [--pretty]

Runs the relay with every module named in PROVIDERS (all five by default). Settings come from
the environment and from a .env file in the working directory.

Options:
  --port <port>   Port to listen on (overrides PORT; default 9090)
  --host <host>   Address to listen on (overrides HOST; default 0.0.0.0)
  --pretty        Readable logs for development (LOG_FORMAT=pretty) instead of JSON lines
  -h, --help      Show this help`,

  async run(args) {
    const { values } = parseCommandArgs(
      args,
      { port: { type: 'string' }, host: { type: 'string' }, pretty: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      false,
    );
    if (values.help === true) {
      console.log(this.help);
      return 0;
    }
    if (values.port !== undefined) process.env.PORT = values.port;
    if (values.host !== undefined) process.env.HOST = values.host;
    if (values.pretty === true) process.env.LOG_FORMAT = 'pretty';
    // Loaded here so other commands do not pay for the server's start-up.
    const { serve } = await import('../serve.js');
    await serve();
    return 0;
  },
};
