#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { registerConfiguredSecrets } from '../config/index.js';
import { ConfigError, ForwarderError } from '../errors.js';
import { scrubProcessOutput, scrubSecrets } from '../logging/secrets.js';
import { RetryAborted } from '../retry.js';
import type { CommandContext } from './context.js';
import { EXIT_DEAD_LETTERED, EXIT_FAILURE, EXIT_NEEDS_ATTENTION, EXIT_USAGE } from './exit-codes.js';

// Before anything can print: whatever any code writes to stdout or stderr passes the scrubber.
scrubProcessOutput();

const USAGE = `Usage: okta-forwarder <command> [options]

Commands:
  demo                the whole product on this machine: local stack, simulated org, poller, sink
                      (--history-events 20000; --exit-when-done stops after the summary)
  poll                run a poller for every configured org: Okta System Log -> Kafka
  sink                run a member of the sink group: Kafka -> activity documents -> Elasticsearch
                      (--keep-raw keeps the original event in each document)
  run                 poll and sink in one process
  check               test every org (DNS, TLS, authentication, permission, rate limit),
                      Kafka (brokers, topics, transactions), the schema registry if configured
                      and Elasticsearch; exit 1 on a failure
  status              every org (state and since when, the poller holding it, newest event, poll
                      lag, backfill, events), the sink's lag per partition and Elasticsearch
                      (health, documents of the last 24 h), from Kafka and Elasticsearch alone:
                      works with no forwarder running. --json for machines; --stale-after SECONDS
                      (3600): a held org with no checkpoint for longer is stale; --max-lag N
                      (10000): a partition further behind needs attention. Exit 0 all well,
                      ${EXIT_NEEDS_ATTENTION} something needs attention, ${EXIT_FAILURE} Kafka cannot be reached.
                      Every poll, sink and run process serves its own view as JSON at /status.
  import FILE --org ID
                      publish Okta events from an NDJSON file ("-": stdin) to the events topic;
                      a line that cannot be an event (not UTF-8, not JSON, not an object, not
                      encodable, over 16 MiB) goes to the dead-letter topic with its line number
                      and reason, and the import goes on; blank lines are skipped. Exit 0: every
                      non-blank line imported; ${EXIT_DEAD_LETTERED}: done, some lines dead-lettered
  normalize [FILE] [--org ID]
                      Okta events (NDJSON, stdin when no FILE) -> activity documents (NDJSON)
  simulate            run the Okta System Log simulator (--port 8085, --token-file F,
                      --history-days 60, --history-events 50000, --live-per-minute 60, --rate-limit 120)
  config              validate the configuration and print it, secrets masked;
                      with --reference, print the reference of every setting (Markdown)

Options:
  -c, --config FILE   configuration file (JSON); default: $OKTA_FORWARDER_CONFIG, else defaults
                      and environment variables only. Environment variables override the file.
  -h, --help          show this help
  -v, --version       show the version

Exit codes: 0 done; ${EXIT_FAILURE} failed (import: the lines after the last committed batch are not
published, the message says from which line to go on); ${EXIT_USAGE} wrong command line or
configuration; ${EXIT_DEAD_LETTERED} import done, some lines went to the dead-letter topic; ${EXIT_NEEDS_ATTENTION} status shown,
something needs attention.
`;

/** Each command is loaded when it runs, so `config` does not load Kafka or the simulator. */
const COMMANDS: Record<string, () => Promise<(context: CommandContext) => Promise<number>>> = {
  config: async () => (await import('./commands/config.js')).configCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  poll: async () => (await import('./commands/poll.js')).pollCommand,
  sink: async () => (await import('./commands/sink.js')).sinkCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  normalize: async () => (await import('./commands/normalize.js')).normalizeCommand,
  simulate: async () => (await import('./commands/simulate.js')).simulateCommand,
};

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        reference: { type: 'boolean' },
        'keep-raw': { type: 'boolean' },
        'exit-when-done': { type: 'boolean' },
        json: { type: 'boolean' },
        'stale-after': { type: 'string' },
        'max-lag': { type: 'string' },
        org: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'token-file': { type: 'string' },
        'history-days': { type: 'string' },
        'history-events': { type: 'string' },
        'live-per-minute': { type: 'string' },
        'rate-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    process.stderr.write(`okta-forwarder: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  // The secrets of the configuration are known before any command starts, so none of its output
  // (a validation message, a server's answer, a crash) can show one.
  registerConfiguredSecrets({ file: values.config });
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? EXIT_USAGE : 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`okta-forwarder: unknown command "${command}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (command !== 'import' && command !== 'normalize' && rest.length > 0) {
    process.stderr.write(`okta-forwarder ${command}: unexpected argument "${rest[0]}"\n`);
    return EXIT_USAGE;
  }
  const { config, ...flags } = values;
  return (await load())({ configFile: config, positionals: rest, flags });
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Errors a user can act on get one clear paragraph on stderr; anything else is a bug and gets its
 * stack. Also the crash report of an uncaught exception or an unhandled rejection: scrubbed.
 */
function reportFatal(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(scrubSecrets(`okta-forwarder: ${err.message}\n`));
    return EXIT_USAGE;
  }
  if (err instanceof ForwarderError) {
    process.stderr.write(scrubSecrets(`okta-forwarder: ${err.message}\n`));
    return err.code === 'OF_CONFIG_UNREADABLE' || err.code === 'OF_IMPORT_INPUT' ? EXIT_USAGE : EXIT_FAILURE;
  }
  if (err instanceof RetryAborted) {
    // Stopped (Ctrl-C, SIGTERM) while waiting for a dependency: not done, and not a bug.
    process.stderr.write(scrubSecrets(`okta-forwarder: ${err.message}${err.cause ? ` (last error: ${(err.cause as Error).message})` : ''}\n`));
    return EXIT_FAILURE;
  }
  process.stderr.write(scrubSecrets(`okta-forwarder: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`));
  return EXIT_FAILURE;
}

process.on('uncaughtException', (err) => process.exit(reportFatal(err)));
process.on('unhandledRejection', (err) => process.exit(reportFatal(err)));

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportFatal(err);
  },
);
