import type { ItemFailure, WriteOutcome } from '../elasticsearch/writer.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/registry.js';

/** Everything the sink reports, one method per occurrence: the log line and the metrics together. */
export class SinkTelemetry {
  private newestIndexedMs: number | undefined;
  private elasticsearchUp: boolean | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.logger = logger.child({ component: 'sink' });
    metrics.sinkEventTimeLag.reset();
    metrics.beforeEventTimeLagScrape.add(() => this.updateEventTimeLag());
  }

  started(details: { groupId: string; topic: string; indexPrefix: string; schemaRegistry?: string }): void {
    this.logger.info(details, 'sink started');
  }

  templateInstalled(prefix: string): void {
    this.logger.info({ indexPrefix: prefix }, 'index template installed');
  }

  bulk(seconds: number, outcome: WriteOutcome<unknown>): void {
    this.metrics.sinkBulkDuration.observe(seconds);
    const reached = outcome.indexed.length > 0 || outcome.rejected.length > 0 || outcome.retriable.some((failure) => failure.status !== 0);
    this.setElasticsearchUp(reached);
    if (outcome.indexed.length === 0) return;
    this.metrics.sinkRecords.inc({ outcome: 'indexed' }, outcome.indexed.length);
    const now = this.now();
    for (const item of outcome.indexed) {
      const time = item.document.time;
      if (typeof time !== 'number') continue;
      this.metrics.sinkEndToEndLatency.observe(Math.max(0, (now - time) / 1000));
      if (this.newestIndexedMs === undefined || time > this.newestIndexedMs) this.newestIndexedMs = time;
    }
    this.updateEventTimeLag();
  }

  /** Called at scrape time and after each bulk: a sink that indexes nothing shows a growing lag. */
  updateEventTimeLag(): void {
    if (this.newestIndexedMs !== undefined) this.metrics.sinkEventTimeLag.set(Math.max(0, (this.now() - this.newestIndexedMs) / 1000));
  }

  retrying(failures: ItemFailure<unknown>[], attempt: number, waitMs: number): void {
    this.metrics.sinkRecords.inc({ outcome: 'retried' }, failures.length);
    const first = failures[0];
    this.logger.warn(
      { records: failures.length, attempt, retryInMs: waitMs, status: first?.status, errorType: first?.type },
      `Elasticsearch did not take ${failures.length} document(s) (${first?.reason ?? 'unknown'}): retrying; nothing is committed meanwhile`,
    );
  }

  /** Elasticsearch does not take documents (a write block, refused credentials, no answer): the sink holds its batch until it does. */
  waitingForElasticsearch(reason: string): void {
    this.logger.error({ awaiting: 'elasticsearch', reason }, `waiting for Elasticsearch to take documents: ${reason}; nothing is dead-lettered or committed meanwhile`);
  }

  elasticsearchTakingDocuments(): void {
    this.logger.info({ awaiting: 'elasticsearch' }, 'Elasticsearch takes documents again: indexing goes on');
  }

  schemaRegistryRetrying(error: Error, schemaIds: number[], attempt: number, waitMs: number): void {
    this.logger.error(
      { err: error, schemaIds, attempt, retryInMs: waitMs },
      `the schema registry did not give the schema of id(s) ${schemaIds.join(', ')} (${error.message}): retrying; the records wait, nothing is committed meanwhile`,
    );
  }

  schemaRegistryAnswered(): void {
    this.logger.info('the schema registry answered: decoding goes on');
  }

  deadLettered(entries: { stage: string; errorType: string; partition: number; offset: string }[]): void {
    this.metrics.sinkRecords.inc({ outcome: 'dead_lettered' }, entries.length);
    for (const entry of entries) this.logger.warn(entry, 'record sent to the dead-letter topic');
  }

  deadLetterFailed(error: Error, waitMs: number): void {
    this.logger.warn({ err: error, retryInMs: waitMs }, 'writing to the dead-letter topic failed; retrying');
  }

  /** KafkaJS gave up on the consumer; the sink starts it again. */
  consumerCrashed(error: Error): void {
    this.logger.error({ err: error }, 'the sink consumer crashed; starting it again');
  }

  /** Committing an offset failed; the next commit of the partition covers it (offsets only move forward). */
  commitFailed(error: Error): void {
    this.logger.warn({ err: error }, 'committing the offset of an empty batch failed; the next commit covers it');
  }

  committed(topic: string, partition: number, lag: bigint): void {
    this.metrics.sinkConsumerLag.set({ topic, partition: String(partition) }, Number(lag < 0n ? 0n : lag));
  }

  lag(topic: string, partition: number, lag: number): void {
    this.metrics.sinkConsumerLag.set({ topic, partition: String(partition) }, Math.max(0, lag));
  }

  stopped(): void {
    this.logger.info('sink stopped');
  }

  private setElasticsearchUp(up: boolean): void {
    this.metrics.sinkElasticsearchUp.set(up ? 1 : 0);
    if (this.elasticsearchUp === up) return;
    this.elasticsearchUp = up;
    if (up) this.logger.info('Elasticsearch is taking documents');
    else this.logger.error('Elasticsearch is unreachable: the sink waits and retries; consumption is paused meanwhile');
  }
}
