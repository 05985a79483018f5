import { loadConfig } from '../../config/index.js';
import { ConfigError } from '../../errors.js';
import { scrubSecrets } from '../../logging/secrets.js';
import { readClusterStatus } from '../../status/cluster.js';
import { attentionItems, DEFAULT_MAX_LAG, DEFAULT_STALE_AFTER_SECONDS, statusExitCode } from '../../status/report.js';
import { formatStatusTable } from '../../status/table.js';
import type { CommandContext } from '../context.js';

/**
 * `okta-forwarder status`: every org as the connector page shows it, the sink's lag per partition
 * and Elasticsearch, from Kafka and Elasticsearch alone (no forwarder needs to run). A table, or
 * JSON with --json. Exit 0 when all is well, EXIT_NEEDS_ATTENTION when something is not: usable
 * from cron or as a readiness gate.
 */
export async function statusCommand(context: CommandContext): Promise<number> {
  const staleAfterSeconds = thresholdFlag(context.flags['stale-after'], DEFAULT_STALE_AFTER_SECONDS, '--stale-after');
  const maxLag = thresholdFlag(context.flags['max-lag'], DEFAULT_MAX_LAG, '--max-lag');
  const { config } = loadConfig({ file: context.configFile });
  const status = await readClusterStatus(config, { staleAfterSeconds, maxLag });
  const attention = attentionItems(status);
  const text = context.flags.json === true ? `${JSON.stringify({ ...status, attention }, null, 2)}\n` : formatStatusTable(status);
  // Reasons quote what servers answered: scrubbed like any output.
  process.stdout.write(scrubSecrets(text));
  return statusExitCode(status);
}

/** A threshold from the command line: a number of at least 0 (a wrong one is a usage error, exit 2). */
function thresholdFlag(value: string | boolean | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || number < 0) throw new ConfigError('the command line', [`${flag}: must be a number of at least 0, not ${JSON.stringify(value)}`]);
  return number;
}
