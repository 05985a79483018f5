import pino from 'pino';
import { configReference, loadConfig, redactConfig } from '../../config/index.js';
import { createLogger } from '../../logging/logger.js';
import { scrubSecrets } from '../../logging/secrets.js';
import type { CommandContext } from '../context.js';

/** `okta-forwarder config`: validate the configuration and print it with secrets masked. */
export async function configCommand(context: CommandContext): Promise<number> {
  if (context.flags.reference) {
    process.stdout.write(configReference());
    return 0;
  }
  const loaded = loadConfig({ file: context.configFile });
  // stdout carries the configuration; log lines go to stderr.
  const logger = createLogger({ level: loaded.config.log.level, base: { command: 'config' }, destination: pino.destination({ dest: 2, sync: true }) });
  for (const warning of loaded.warnings) logger.warn({ source: loaded.source }, warning);
  logger.info({ source: loaded.source, orgs: loaded.config.okta.orgs.map((org) => org.id) }, 'configuration is valid');
  // Masked by setting (redactConfig), then scrubbed by value: a secret may sit where no setting expects one.
  process.stdout.write(scrubSecrets(`${JSON.stringify(redactConfig(loaded.config), null, 2)}\n`));
  return 0;
}
