#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { configReference, loadConfig, redactConfig } from '../config/index.js';
import { ConfigError, ForwarderError } from '../errors.js';
import { createLogger } from '../logging/logger.js';
import { scrubSecrets } from '../logging/secrets.js';

/** Exit codes: 0 done, 1 failed while running, 2 the command line or the configuration is wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const USAGE = `Usage: okta-forwarder <command> [--config FILE]

Commands:
  config      validate the configuration and print it, secrets masked;
              with --reference, print the reference of every setting (Markdown)

Options:
  -c, --config FILE   configuration file (JSON); default: $OKTA_FORWARDER_CONFIG, else defaults
                      and environment variables only. Environment variables override the file.
  -h, --help          show this help
  -v, --version       show the version
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        reference: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    process.stderr.write(`okta-forwarder: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? EXIT_USAGE : 0;
  }
  if (command !== 'config') {
    process.stderr.write(`okta-forwarder: unknown command "${command}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (rest.length > 0) {
    process.stderr.write(`okta-forwarder ${command}: unexpected argument "${rest[0]}"\n`);
    return EXIT_USAGE;
  }

  if (values.reference) {
    process.stdout.write(configReference());
    return 0;
  }
  const loaded = loadConfig({ file: values.config });
  // stdout carries the configuration; log lines go to stderr.
  const logger = createLogger({ level: loaded.config.log.level, base: { command }, destination: pino.destination({ dest: 2, sync: true }) });
  for (const warning of loaded.warnings) logger.warn({ source: loaded.source }, warning);
  logger.info({ source: loaded.source, orgs: loaded.config.okta.orgs.map((org) => org.id) }, 'configuration is valid');
  process.stdout.write(`${JSON.stringify(redactConfig(loaded.config), null, 2)}\n`);
  return 0;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Errors a user can act on get one clear paragraph on stderr; anything else is a bug and gets its stack. */
function reportFatal(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(scrubSecrets(`okta-forwarder: ${err.message}\n`));
    return EXIT_USAGE;
  }
  if (err instanceof ForwarderError) {
    process.stderr.write(scrubSecrets(`okta-forwarder: ${err.message}\n`));
    return err.code === 'OF_CONFIG_UNREADABLE' ? EXIT_USAGE : EXIT_FAILURE;
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
