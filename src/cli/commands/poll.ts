import { createKafka } from '../../kafka/client.js';
import { createLogger } from '../../logging/logger.js';
import { createMetrics } from '../../metrics/registry.js';
import { startMetricsServer } from '../../metrics/server.js';
import type { BackfillProgress } from '../../poller/progress.js';
import { startPollers } from '../../poller/run.js';
import { WORKING_STATES, type ConnectorState } from '../../poller/state.js';
import { loadConfigWithOrgs, untilSignal, type CommandContext } from '../context.js';
import { bar, formatCount, formatDuration, StatusLine } from '../terminal.js';

/**
 * `okta-forwarder poll`: one poller per configured org, until SIGINT/SIGTERM, which stops each
 * after its page in flight. Exit 1 when a poller cannot go on (another instance took its org over).
 */
export async function pollCommand(context: CommandContext): Promise<number> {
  const { config, warnings, source } = loadConfigWithOrgs(context, 'poll');
  const logger = createLogger({ level: config.log.level, base: { command: 'poll' } });
  for (const warning of warnings) logger.warn({ source }, warning);
  const metrics = createMetrics();
  const kafka = createKafka(config.kafka, logger);
  const line = new StatusLine();
  const progress = new Map<string, BackfillProgress>();
  const pollers = await startPollers({
    config,
    kafka,
    logger,
    metrics,
    onProgress: (org, update) => {
      progress.set(org, update);
      line.update([...progress].map(([id, p]) => describeProgress(id, p)).join('   '));
      if (update.caughtUp && [...progress.values()].every((p) => p.caughtUp)) line.done();
    },
  });
  const server =
    config.metrics.port === 0
      ? undefined
      : await startMetricsServer({
          host: config.metrics.host,
          port: config.metrics.port,
          registry: metrics.registry,
          readiness: () => {
            const states = Object.fromEntries([...pollers.handles].map(([org, handle]) => [org, handle.stats().state]));
            return { ready: Object.values(states).every((state) => WORKING_STATES.has(state as ConnectorState)), detail: { connectors: states } };
          },
        });
  if (server) logger.info({ host: config.metrics.host, port: config.metrics.port }, 'serving /metrics, /healthz and /readyz');

  const outcome = await Promise.race([
    untilSignal().then((signal) => ({ signal })),
    pollers.done.then(
      () => ({ error: undefined }),
      (error: unknown) => ({ error }),
    ),
  ]);
  if ('signal' in outcome) logger.info({ signal: outcome.signal }, 'stopping: finishing the pages in flight');
  await pollers.stop();
  line.done();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if ('error' in outcome && outcome.error) {
    logger.fatal({ err: outcome.error }, (outcome.error as Error).message);
    return 1;
  }
  return 0;
}

function describeProgress(org: string, p: BackfillProgress): string {
  if (p.caughtUp) return `${org}: caught up, ${formatCount(p.events)} events`;
  return `${org}: backfill ${bar(p.ratio, 12)} ${(p.ratio * 100).toFixed(1)}%  ${formatCount(p.events)} events  ${formatCount(p.eventsPerSecond)} ev/s  ETA ${formatDuration(p.etaSeconds)}`;
}
