import { loadConfig } from '../../config/index.js';
import { startSink } from '../../sink/run.js';
import { DEFAULT_MAX_LAG, elasticsearchFromSink, sinkStatus } from '../../status/report.js';
import type { CommandContext } from '../context.js';
import { runService, type Service, type ServiceDeps } from '../service.js';

/** `okta-forwarder sink`: a member of the sink's consumer group, until SIGINT/SIGTERM. */
export async function sinkCommand(context: CommandContext): Promise<number> {
  return runService('sink', loadConfig({ file: context.configFile }), (deps) => startSinkService(deps, context.flags['keep-raw'] === true));
}

export async function startSinkService(deps: ServiceDeps, keepRaw: boolean): Promise<Service> {
  const sink = await startSink({ ...deps, keepRaw, onWaiting: deps.waits.listener });
  return {
    done: sink.done,
    stop: () => sink.stop(),
    readiness: () => {
      const stats = sink.stats();
      const waitingFor = {
        ...(stats.waitingForKafka !== undefined ? { Kafka: stats.waitingForKafka } : {}),
        ...(stats.waitingForElasticsearch ? { Elasticsearch: `Elasticsearch does not take documents: ${stats.elasticsearchWaitReason ?? 'retrying'}` } : {}),
        ...(stats.waitingForSchemaRegistry ? { 'the schema registry': 'looking up the schema of a record: retrying' } : {}),
      };
      return { ready: Object.keys(waitingFor).length === 0, detail: { sink: stats, ...(Object.keys(waitingFor).length > 0 ? { waitingFor } : {}) } };
    },
    status: () => {
      const stats = sink.stats();
      const { partitions, readAt } = sink.lag();
      const lag = sinkStatus({ group: deps.config.kafka.consumerGroup, groupState: undefined, members: undefined, partitions, readAt, maxLag: DEFAULT_MAX_LAG });
      return { sink: { ...lag, indexed: stats.indexed, deadLettered: stats.deadLettered }, elasticsearch: elasticsearchFromSink(stats) };
    },
  };
}
