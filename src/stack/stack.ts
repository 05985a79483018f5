import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForwarderError } from '../errors.js';
import { dockerAvailable, startElasticsearchContainer, startKafkaContainer, startPrometheusContainer, stopContainers } from './containers.js';
import type { ElasticsearchEndpoint, KafkaEndpoint, PrometheusEndpoint, Provider, StackEndpoints } from './endpoints.js';
import { localElasticsearch, localKafka, localPrometheus, logFile, pidFile, type LocalService } from './local.js';
import { isAlive, portInUse, readPid, stopDetached, waitUntilReady, type Report } from './processes.js';
import { elasticsearchReady, kafkaReady, prometheusReady } from './probes.js';
import { SERVICES, type ServiceName, type StackSettings } from './settings.js';

/**
 * The local stack: Kafka, Elasticsearch and Prometheus for the tests, the demo and CI. For each
 * service, in this order: the endpoint the environment gives (KAFKA_BROKERS, ELASTICSEARCH_URL,
 * PROMETHEUS_URL), else containers when a Docker engine answers, else processes on this machine's
 * JDK. `up` is idempotent: a service that is already running and ready is reused.
 */
export interface StackStatus {
  service: ServiceName;
  provider: Provider | 'stopped';
  endpoint?: string;
  pid?: number;
  ready: boolean;
  detail?: string;
}

export interface UpResult {
  endpoints: StackEndpoints;
  /** The services this call started; the others were given or already running. */
  started: ServiceName[];
}

type AnyEndpoint = KafkaEndpoint | ElasticsearchEndpoint | PrometheusEndpoint;

const LOCAL: Record<ServiceName, LocalService<AnyEndpoint>> = {
  kafka: localKafka,
  elasticsearch: localElasticsearch,
  prometheus: localPrometheus,
};

/** The endpoint the environment names for a service, if any. */
export function environmentEndpoint(service: ServiceName, env: NodeJS.ProcessEnv = process.env): AnyEndpoint | undefined {
  switch (service) {
    case 'kafka':
      return env.KAFKA_BROKERS
        ? { provider: 'environment', brokers: env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean) }
        : undefined;
    case 'elasticsearch':
      return env.ELASTICSEARCH_URL
        ? { provider: 'environment', url: env.ELASTICSEARCH_URL, username: env.ELASTICSEARCH_USERNAME ?? '', password: env.ELASTICSEARCH_PASSWORD ?? '' }
        : undefined;
    case 'prometheus':
      return env.PROMETHEUS_URL ? { provider: 'environment', url: env.PROMETHEUS_URL } : undefined;
  }
}

export function probe(service: ServiceName, endpoint: AnyEndpoint): Promise<boolean> {
  switch (service) {
    case 'kafka':
      return kafkaReady(endpoint as KafkaEndpoint);
    case 'elasticsearch':
      return elasticsearchReady(endpoint as ElasticsearchEndpoint);
    case 'prometheus':
      return prometheusReady((endpoint as PrometheusEndpoint).url);
  }
}

function describe(endpoint: AnyEndpoint): string {
  return 'brokers' in endpoint ? endpoint.brokers.join(',') : endpoint.url;
}

function endpointsFile(s: StackSettings): string {
  return join(s.stateDir, 'endpoints.json');
}

export function readEndpoints(s: StackSettings): StackEndpoints {
  const file = endpointsFile(s);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StackEndpoints) : {};
}

function writeEndpoints(s: StackSettings, endpoints: StackEndpoints): void {
  mkdirSync(s.stateDir, { recursive: true });
  writeFileSync(endpointsFile(s), `${JSON.stringify(endpoints, null, 2)}\n`);
}

async function quietly(check: () => Promise<boolean>): Promise<boolean> {
  try {
    return await check();
  } catch {
    return false;
  }
}

/** Which provider runs services that the environment does not give: forced by OKTA_FORWARDER_STACK_PROVIDER, else Docker when it answers. */
async function chooseProvider(env: NodeJS.ProcessEnv): Promise<'containers' | 'local'> {
  const forced = env.OKTA_FORWARDER_STACK_PROVIDER;
  if (forced === 'local' || forced === 'containers') return forced;
  if (forced) throw new ForwarderError('OF_STACK_START', `OKTA_FORWARDER_STACK_PROVIDER must be "local" or "containers"; value was ${JSON.stringify(forced)}`);
  return (await dockerAvailable()) ? 'containers' : 'local';
}

export async function up(s: StackSettings, services: readonly ServiceName[], report: Report, env: NodeJS.ProcessEnv = process.env): Promise<UpResult> {
  const recorded = readEndpoints(s);
  // The secure stack is always this stack's own: endpoints from the environment are plain ones.
  const given = (service: ServiceName) => (s.secure ? undefined : environmentEndpoint(service, env));
  const needsProvider = services.some((service) => !given(service));
  // The secure stack's certificates and users are made for the local processes only.
  const provider = needsProvider && !s.secure ? await chooseProvider(env) : 'local';
  const started: ServiceName[] = [];
  const results = await Promise.all(
    services.map(async (service) => {
      const t0 = Date.now();
      const fromEnvironment = given(service);
      let endpoint: AnyEndpoint;
      if (fromEnvironment) {
        await waitUntilReady({ what: `${service} at ${describe(fromEnvironment)} (from the environment)`, probe: () => probe(service, fromEnvironment), timeoutMs: s.readyTimeoutMs });
        endpoint = fromEnvironment;
        report(`${service}: using ${describe(endpoint)} from the environment`);
      } else if (provider === 'containers') {
        const previous = recorded[service];
        if (previous?.provider === 'containers' && (await quietly(() => probe(service, previous)))) {
          endpoint = previous;
          report(`${service}: already running at ${describe(endpoint)}`);
        } else {
          endpoint = await startContainer(service, s, report);
          started.push(service);
          report(`${service}: ready at ${describe(endpoint)} (${seconds(t0)})`);
        }
      } else {
        const result = await upLocal(LOCAL[service], s, report);
        endpoint = result.endpoint;
        if (result.started) {
          started.push(service);
          report(`${service}: ready at ${describe(endpoint)} (${seconds(t0)})`);
        } else {
          report(`${service}: already running at ${describe(endpoint)}`);
        }
      }
      return [service, endpoint] as const;
    }),
  );
  const endpoints: StackEndpoints = { ...recorded, ...Object.fromEntries(results) };
  writeEndpoints(s, endpoints);
  return { endpoints, started };
}

function startContainer(service: ServiceName, s: StackSettings, report: Report): Promise<AnyEndpoint> {
  switch (service) {
    case 'kafka':
      return startKafkaContainer(s, report);
    case 'elasticsearch':
      return startElasticsearchContainer(s, report);
    case 'prometheus':
      return startPrometheusContainer(s, report);
  }
}

async function upLocal(local: LocalService<AnyEndpoint>, s: StackSettings, report: Report): Promise<{ endpoint: AnyEndpoint; started: boolean }> {
  const endpoint = local.endpoint(s);
  const pids = pidFile(s, local.name);
  const log = logFile(s, local.name);
  const running = readPid(pids);
  if (running !== undefined && isAlive(running)) {
    // Ours and alive: it may still be starting (an earlier `up` that was interrupted).
    await waitUntilReady({ what: local.name, probe: () => probe(local.name, endpoint), timeoutMs: s.readyTimeoutMs, pid: running, logFile: log });
    return { endpoint, started: false };
  }
  rmSync(pids, { force: true });
  for (const port of local.ports(s)) {
    if (await portInUse(port)) {
      throw new ForwarderError(
        'OF_STACK_START',
        `${local.name}: port ${port} on 127.0.0.1 is taken by another program; stop it, or choose other ports (STACK_*_PORT variables, see docs/development.md)`,
      );
    }
  }
  const pid = await local.start(s, report);
  report(`${local.name}: started (pid ${pid}), waiting until it is ready; log: ${log}`);
  await waitUntilReady({ what: local.name, probe: () => probe(local.name, endpoint), timeoutMs: s.readyTimeoutMs, pid, logFile: log });
  return { endpoint, started: true };
}

/** Stops the given services that this stack runs (never those the environment gives) and waits until their ports are free. */
export async function down(s: StackSettings, services: readonly ServiceName[], report: Report): Promise<void> {
  const recorded = readEndpoints(s);
  const containerServices = services.filter((service) => recorded[service]?.provider === 'containers');
  if (containerServices.length > 0) {
    const stopped = await stopContainers(s, containerServices);
    report(`stopped ${stopped} container(s)`);
  }
  await Promise.all(
    services.map(async (service) => {
      const local = LOCAL[service];
      if (await stopDetached(pidFile(s, service))) {
        for (const port of local.ports(s)) {
          const deadline = Date.now() + 30_000;
          while ((await portInUse(port)) && Date.now() < deadline) await sleep(200);
        }
        report(`${service}: stopped`);
      } else {
        report(`${service}: not running`);
      }
    }),
  );
  const remaining = Object.fromEntries(Object.entries(recorded).filter(([service]) => !services.includes(service as ServiceName)));
  if (Object.keys(remaining).length === 0) rmSync(endpointsFile(s), { force: true });
  else writeEndpoints(s, remaining);
}

/** The folders `down --purge` deletes: the state folder, and Elasticsearch's own when it lives elsewhere. */
export function purgeable(s: StackSettings): string[] {
  const location = join(s.stateDir, 'elasticsearch-location');
  const outside = existsSync(location) ? readFileSync(location, 'utf8').trim() : '';
  return outside ? [outside, s.stateDir] : [s.stateDir];
}

export async function status(s: StackSettings, env: NodeJS.ProcessEnv = process.env): Promise<StackStatus[]> {
  const recorded = readEndpoints(s);
  return Promise.all(
    SERVICES.map(async (service): Promise<StackStatus> => {
      const endpoint = environmentEndpoint(service, env) ?? recorded[service];
      const pid = readPid(pidFile(s, service));
      const alive = pid !== undefined && isAlive(pid);
      if (!endpoint || (endpoint.provider === 'local' && !alive)) return { service, provider: 'stopped', ready: false };
      let detail: string | undefined;
      let ready = false;
      try {
        ready = await probe(service, endpoint);
      } catch (err) {
        detail = (err as Error).message;
      }
      return {
        service,
        provider: endpoint.provider,
        endpoint: describe(endpoint),
        ...(alive ? { pid } : {}),
        ready,
        ...(detail ? { detail } : {}),
      };
    }),
  );
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
