import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createHash } from 'node:crypto';
import type { ElasticsearchEndpoint, KafkaEndpoint, PrometheusEndpoint } from './endpoints.js';
import type { Report } from './processes.js';
import { prometheusFiles } from './local.js';
import type { ServiceName, StackSettings } from './settings.js';

/**
 * The stack's services as containers, through testcontainers, when a Docker engine answers. The
 * containers outlive the process that started them (the reaper is off) and carry a label naming
 * the stack's state folder, which is how `down` finds them.
 *
 * TODO: not exercised by this project's CI, whose machines have no Docker engine; the local JVM
 * provider is. A CI job on a machine with Docker would cover this path.
 */
const LABEL = 'dev.okta-forwarder.stack';

function stackId(s: StackSettings): string {
  return createHash('sha256').update(s.stateDir).digest('hex').slice(0, 12);
}

/** True when a Docker (or compatible) engine answers; quick when there is obviously none. */
export async function dockerAvailable(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 15_000).unref());
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return true;
  } catch {
    return false;
  }
}

async function testcontainers() {
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  return import('testcontainers');
}

/** A free port on the host: Kafka must advertise the same port it is reached on. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startKafkaContainer(s: StackSettings, report: Report): Promise<KafkaEndpoint> {
  const { GenericContainer, Wait } = await testcontainers();
  const port = await freePort();
  report(`kafka: starting container apache/kafka:${s.kafkaVersion} on 127.0.0.1:${port}`);
  await new GenericContainer(`apache/kafka:${s.kafkaVersion}`)
    .withLabels({ [LABEL]: stackId(s), [`${LABEL}.service`]: 'kafka' })
    .withExposedPorts({ container: 9092, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  return { provider: 'containers', brokers: [`127.0.0.1:${port}`] };
}

export async function startElasticsearchContainer(s: StackSettings, report: Report): Promise<ElasticsearchEndpoint> {
  const { GenericContainer, Wait } = await testcontainers();
  report(`elasticsearch: starting container elasticsearch:${s.elasticsearchVersion}`);
  const container = await new GenericContainer(`docker.elastic.co/elasticsearch/elasticsearch:${s.elasticsearchVersion}`)
    .withLabels({ [LABEL]: stackId(s), [`${LABEL}.service`]: 'elasticsearch' })
    .withExposedPorts(9200)
    .withEnvironment({
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'true',
      'xpack.security.http.ssl.enabled': 'false',
      'cluster.routing.allocation.disk.threshold_enabled': 'false',
      ELASTIC_PASSWORD: s.elasticPassword,
      ES_JAVA_OPTS: '-Xms512m -Xmx512m',
    })
    .withWaitStrategy(Wait.forHttp('/_cluster/health', 9200).withBasicCredentials('elastic', s.elasticPassword).forStatusCode(200))
    .withStartupTimeout(s.readyTimeoutMs)
    .start();
  return { provider: 'containers', url: `http://${container.getHost()}:${container.getMappedPort(9200)}`, username: 'elastic', password: s.elasticPassword };
}

export async function startPrometheusContainer(s: StackSettings, report: Report): Promise<PrometheusEndpoint> {
  const { GenericContainer, Wait } = await testcontainers();
  report('prometheus: starting container prom/prometheus');
  const container = await new GenericContainer('prom/prometheus:v2.55.1')
    .withLabels({ [LABEL]: stackId(s), [`${LABEL}.service`]: 'prometheus' })
    .withExposedPorts(9090)
    .withCopyContentToContainer(
      Object.entries(prometheusFiles({ ...s, prometheusPort: 9090 })).map(([name, content]) => ({ content, target: `/etc/prometheus/${name}` })),
    )
    .withWaitStrategy(Wait.forHttp('/-/ready', 9090).forStatusCode(200))
    .start();
  return { provider: 'containers', url: `http://${container.getHost()}:${container.getMappedPort(9090)}` };
}

/** Stops and removes this stack's containers of the given services. */
export async function stopContainers(s: StackSettings, services: readonly ServiceName[]): Promise<number> {
  const { getContainerRuntimeClient } = await testcontainers();
  const client = await getContainerRuntimeClient();
  const containers = await client.container.dockerode.listContainers({ all: true, filters: { label: [`${LABEL}=${stackId(s)}`] } });
  let stopped = 0;
  for (const info of containers) {
    if (!services.includes(info.Labels[`${LABEL}.service`] as ServiceName)) continue;
    const container = client.container.getById(info.Id);
    await container.stop().catch(() => undefined);
    await container.remove({ force: true }).catch(() => undefined);
    stopped += 1;
  }
  return stopped;
}
