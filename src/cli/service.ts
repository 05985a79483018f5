import type { Kafka } from 'kafkajs';
import type { ForwarderConfig, LoadedConfig } from '../config/index.js';
import { knownSchemaVersions } from '../avro/schema-versions.js';
import { createKafka } from '../kafka/client.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { createMetrics, type Metrics } from '../metrics/registry.js';
import { startMetricsServer, type Readiness } from '../metrics/server.js';
import { thisProcess } from '../kafka/poller-group.js';
import { RetryAborted, type WaitingListener } from '../retry.js';
import { processStatus, type ServiceStatus } from '../status/report.js';
import { untilSignal } from './context.js';

/** What a long-running command starts: something to await, to stop, to ask whether it is ready and, for /status, what it does. */
export interface Service {
  done: Promise<void>;
  stop(): Promise<void>;
  readiness(): Readiness;
  /** Its orgs and sink as /status shows them; read at each request (the orgs a process holds change). */
  status?(): ServiceStatus;
}

/**
 * What a service waits for while it starts (Kafka, Elasticsearch, the schema registry), and why:
 * /readyz shows it, so a process that waits says what it waits for.
 */
export class StartupWaits {
  private readonly waits = new Map<string, string>();

  constructor(private readonly logger?: Logger) {}

  /** `reason` undefined: no longer waiting for `dependency`. Logged when it changes: what is awaited, and when it answered. */
  set(dependency: string, reason: string | undefined, retryInMs?: number): void {
    const before = this.waits.get(dependency);
    if (reason === undefined) {
      this.waits.delete(dependency);
      if (before !== undefined) this.logger?.info({ dependency }, `${dependency} answered; starting`);
      return;
    }
    this.waits.set(dependency, reason);
    if (reason !== before) this.logger?.warn({ dependency, retryInMs }, `waiting for ${dependency}: ${reason}`);
    else this.logger?.debug({ dependency, retryInMs }, `still waiting for ${dependency}`);
  }

  /** For the start functions: `onWaiting` of untilAvailable(). */
  readonly listener: WaitingListener = (dependency, reason, retryInMs) => this.set(dependency, reason, retryInMs);

  get entries(): Record<string, string> {
    return Object.fromEntries(this.waits);
  }
}

export interface ServiceDeps {
  config: ForwarderConfig;
  logger: Logger;
  metrics: Metrics;
  kafka: Kafka;
  /** Aborted by SIGINT/SIGTERM: a start that waits for a dependency gives up (RetryAborted). */
  signal: AbortSignal;
  waits: StartupWaits;
}

/**
 * The life of `poll`, `sink` and `run`: logger, metrics, one Kafka client, and the /metrics,
 * /healthz, /readyz and /status listener first, before any dependency is reached, so a liveness probe
 * never kills a process that waits for Kafka or Elasticsearch, and /readyz says what it waits
 * for. Then the service starts (waiting out its dependencies) and runs until SIGINT/SIGTERM (stop
 * gracefully; a second signal exits at once) or until it fails (exit 1).
 */
export async function runService(command: string, loaded: LoadedConfig, start: (deps: ServiceDeps) => Promise<Service>): Promise<number> {
  const { config, warnings, source } = loaded;
  // The record schema is part of the installation: a missing one is an error now, never a wait.
  knownSchemaVersions();
  const logger = createLogger({ level: config.log.level, base: { command } });
  for (const warning of warnings) logger.warn({ source }, warning);
  const metrics = createMetrics();
  const kafka = createKafka(config.kafka, logger);
  const waits = new StartupWaits(logger);
  const stopping = new AbortController();
  let service: Service | undefined;
  const readiness = (): Readiness => {
    const waiting = waits.entries;
    if (!service) return { ready: false, detail: { starting: true, waitingFor: waiting } };
    const current = service.readiness();
    if (Object.keys(waiting).length === 0) return current;
    return { ready: false, detail: { ...current.detail, waitingFor: { ...(current.detail.waitingFor as object | undefined), ...waiting } } };
  };
  const startedAtMs = Date.now();
  const status = () =>
    processStatus({
      process: thisProcess(),
      command,
      startedAtMs,
      nowMs: Date.now(),
      starting: !service,
      waitingFor: (readiness().detail.waitingFor as Record<string, unknown> | undefined) ?? {},
      service: service?.status?.() ?? {},
    });
  const server =
    config.metrics.port === 0
      ? undefined
      : await startMetricsServer({ host: config.metrics.host, port: config.metrics.port, registry: metrics.registry, readiness, status });
  if (server) logger.info({ host: config.metrics.host, port: config.metrics.port }, 'serving /metrics, /healthz, /readyz and /status');
  const signalled = untilSignal().then((signal) => {
    stopping.abort();
    return { signal, error: undefined };
  });
  const running = start({ config, logger, metrics, kafka, signal: stopping.signal, waits }).then((started) => {
    service = started;
    return started.done.then(
      () => ({ signal: undefined, error: undefined }),
      (error: unknown) => ({ signal: undefined, error }),
    );
  });
  const outcome = await Promise.race([
    signalled,
    running.catch((error: unknown) => ({ signal: undefined, error: error instanceof RetryAborted ? undefined : error })),
  ]);
  if (outcome.signal) logger.info({ signal: outcome.signal }, 'stopping: finishing the work in flight');
  // A start still waiting for a dependency gives up at the signal; one that got through is stopped.
  stopping.abort();
  const started = service ?? (await running.then(() => service).catch(() => undefined));
  await started?.stop();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (outcome.error) {
    logger.fatal({ err: outcome.error }, (outcome.error as Error).message);
    return 1;
  }
  return 0;
}
