import type { Kafka } from 'kafkajs';
import type { ForwarderConfig, LoadedConfig } from '../config/index.js';
import { createKafka } from '../kafka/client.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createMetrics, type Metrics } from '../metrics/registry.js';
import { startMetricsServer, type Readiness } from '../metrics/server.js';
import { untilSignal } from './context.js';

/** What a long-running command starts: something to await, to stop, and to ask whether it is ready. */
export interface Service {
  done: Promise<void>;
  stop(): Promise<void>;
  readiness(): Readiness;
}

export interface ServiceDeps {
  config: ForwarderConfig;
  logger: Logger;
  metrics: Metrics;
  kafka: Kafka;
}

/**
 * The life of `poll`, `sink` and `run`: logger, metrics, one Kafka client, the /metrics listener,
 * then wait for SIGINT/SIGTERM (stop gracefully; a second signal exits at once) or for the
 * service to fail (exit 1).
 */
export async function runService(command: string, loaded: LoadedConfig, start: (deps: ServiceDeps) => Promise<Service>): Promise<number> {
  const { config, warnings, source } = loaded;
  const logger = createLogger({ level: config.log.level, base: { command } });
  for (const warning of warnings) logger.warn({ source }, warning);
  const metrics = createMetrics();
  const kafka = createKafka(config.kafka, logger);
  const service = await start({ config, logger, metrics, kafka });
  const server =
    config.metrics.port === 0
      ? undefined
      : await startMetricsServer({ host: config.metrics.host, port: config.metrics.port, registry: metrics.registry, readiness: () => service.readiness() });
  if (server) logger.info({ host: config.metrics.host, port: config.metrics.port }, 'serving /metrics, /healthz and /readyz');
  const outcome = await Promise.race([
    untilSignal().then((signal) => ({ signal, error: undefined })),
    service.done.then(
      () => ({ signal: undefined, error: undefined }),
      (error: unknown) => ({ signal: undefined, error }),
    ),
  ]);
  if (outcome.signal) logger.info({ signal: outcome.signal }, 'stopping: finishing the work in flight');
  await service.stop();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (outcome.error) {
    logger.fatal({ err: outcome.error }, (outcome.error as Error).message);
    return 1;
  }
  return 0;
}
