import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { stackCertificates } from './certificates.js';
import type { ElasticsearchEndpoint, KafkaEndpoint, KafkaSecurity, PrometheusEndpoint } from './endpoints.js';
import { isRoot, run, startDetached, UNPRIVILEGED, type Report } from './processes.js';
import { requireJava, requireMaven, requirePrometheus } from './prerequisites.js';
import { PROJECT_ROOT, type SecureStackSettings, type ServiceName, type StackSettings } from './settings.js';

/**
 * The stack's services as plain processes on this machine's JDK, for machines without a Docker
 * engine: Kafka (KRaft, one node) and Elasticsearch from Maven Central, Prometheus from Debian.
 * Each binds to 127.0.0.1 only.
 */
export interface LocalService<E> {
  name: ServiceName;
  ports(settings: StackSettings): number[];
  endpoint(settings: StackSettings): E;
  /** Downloads what is missing, writes the configuration, starts the process; returns its pid. */
  start(settings: StackSettings, report: Report): Promise<number>;
}

export function pidFile(settings: StackSettings, name: ServiceName): string {
  return join(settings.stateDir, 'run', `${name}.pid`);
}

export function logFile(settings: StackSettings, name: ServiceName): string {
  return join(settings.stateDir, 'logs', `${name}.log`);
}

const MAVEN_FLAGS = ['-B', '--no-transfer-progress', '-q'];

// ---------------------------------------------------------------------------------------------
// Kafka

export const localKafka: LocalService<KafkaEndpoint> = {
  name: 'kafka',
  ports: (s) => [s.kafkaPort, s.kafkaControllerPort, ...(s.secure ? [s.secure.kafkaMtlsPort, s.secure.kafkaInternalPort] : [])],
  endpoint: (s) => ({
    provider: 'local',
    brokers: [`127.0.0.1:${s.kafkaPort}`],
    ...(s.secure ? { security: kafkaSecurity(s, s.secure) } : {}),
  }),
  async start(s, report) {
    const javaHome = requireJava();
    requireMaven();
    const libs = kafkaLibs(s, report);
    const dir = join(s.stateDir, `kafka-${s.kafkaVersion}`);
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const properties = join(dir, 'server.properties');
    writeFileSync(properties, kafkaServerProperties(s, dataDir) + (s.secure ? secureKafkaProperties(s, s.secure, dir) : ''));
    const java = join(javaHome, 'bin', 'java');
    const classpath = `${libs}/*`;
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      report('kafka: formatting KRaft storage');
      const clusterId = run(java, ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid'], 'creating a Kafka cluster id').trim().split('\n').pop() ?? '';
      // SCRAM credentials live in the cluster's metadata: the secure stack's user is created with it.
      const scram = s.secure ? ['--add-scram', `SCRAM-SHA-512=[name=${s.secure.kafkaUsername},password=${s.secure.kafkaPassword}]`] : [];
      run(java, ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, ...scram], 'formatting Kafka storage');
    }
    return startDetached({
      command: java,
      args: [
        '-Xms256m',
        '-Xmx1g',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        '-Dorg.slf4j.simpleLogger.showDateTime=true',
        '-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd\'T\'HH:mm:ss.SSSZ',
        '-Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients=warn',
        '-cp',
        classpath,
        'kafka.Kafka',
        properties,
      ],
      cwd: dir,
      env: { ...process.env, JAVA_HOME: javaHome },
      logFile: logFile(s, 'kafka'),
      pidFile: pidFile(s, 'kafka'),
    });
  },
};

/**
 * One broker that is also its own controller. Transactions work on one broker only with the
 * transaction state log at replication 1 and min ISR 1. Topics are never auto-created: the
 * forwarder creates its own, with its own settings, as it must against a real cluster.
 */
function kafkaServerProperties(s: StackSettings, dataDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${s.kafkaControllerPort}`,
    ...(s.secure ? [] : kafkaPlainListeners(s)),
    'controller.listener.names=CONTROLLER',
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

function kafkaPlainListeners(s: StackSettings): string[] {
  return [
    `listeners=PLAINTEXT://127.0.0.1:${s.kafkaPort},CONTROLLER://127.0.0.1:${s.kafkaControllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${s.kafkaPort}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
  ];
}

/**
 * The secure broker's listeners: SASL_SSL with SCRAM-SHA-512 for clients, MTLS the same and a
 * client certificate required too; the broker's own traffic (INTERNAL, CONTROLLER) stays plain
 * text on loopback. PEM key and trust stores: no keytool step. No authorizer: a user that
 * authenticates may do anything, as the tests' clients must.
 */
function secureKafkaProperties(s: StackSettings, secure: SecureStackSettings, dir: string): string {
  const certificates = stackCertificates(certificatesDir(s));
  // Kafka's PEM key store is one file: the private key and its certificate chain.
  const keystore = join(dir, 'server-keystore.pem');
  writeFileSync(keystore, `${readFileSync(certificates.serverKeyFile, 'utf8')}${readFileSync(certificates.serverCertFile, 'utf8')}`, { mode: 0o600 });
  const scramJaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return [
    `listeners=SASL_SSL://127.0.0.1:${s.kafkaPort},MTLS://127.0.0.1:${secure.kafkaMtlsPort},INTERNAL://127.0.0.1:${secure.kafkaInternalPort},CONTROLLER://127.0.0.1:${s.kafkaControllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${s.kafkaPort},MTLS://127.0.0.1:${secure.kafkaMtlsPort},INTERNAL://127.0.0.1:${secure.kafkaInternalPort}`,
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,MTLS:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=INTERNAL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scramJaas}`,
    `listener.name.mtls.scram-sha-512.sasl.jaas.config=${scramJaas}`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${certificates.caFile}`,
    'ssl.client.auth=none',
    'listener.name.mtls.ssl.client.auth=required',
    '',
  ].join('\n');
}

function kafkaSecurity(s: StackSettings, secure: SecureStackSettings): KafkaSecurity {
  const certificates = stackCertificates(certificatesDir(s));
  return {
    caFile: certificates.caFile,
    mechanism: 'scram-sha-512',
    username: secure.kafkaUsername,
    password: secure.kafkaPassword,
    mtlsBrokers: [`127.0.0.1:${secure.kafkaMtlsPort}`],
    clientCertFile: certificates.clientCertFile,
    clientKeyFile: certificates.clientKeyFile,
  };
}

/** The secure stack's CA and certificates, made on its first start. */
export function certificatesDir(s: StackSettings): string {
  return join(s.stateDir, 'certs');
}

/** Resolves kafka_2.13 and its runtime dependencies with Maven into the cache, once per version. */
function kafkaLibs(s: StackSettings, report: Report): string {
  const libs = join(s.cacheDir, `kafka-${s.kafkaVersion}`, 'libs');
  if (existsSync(join(libs, '.complete'))) return libs;
  report(`kafka: resolving org.apache.kafka:kafka_2.13:${s.kafkaVersion} and its dependencies from Maven Central (first run only)`);
  const partial = `${libs}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  run(
    'mvn',
    [
      ...MAVEN_FLAGS,
      '-f',
      join(PROJECT_ROOT, 'docker', 'local', 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dkafka.version=${s.kafkaVersion}`,
      `-Dstack.build.directory=${join(s.cacheDir, 'maven-build')}`,
      `-DoutputDirectory=${partial}`,
    ],
    `resolving Kafka ${s.kafkaVersion} with Maven`,
  );
  writeFileSync(join(partial, '.complete'), `${new Date().toISOString()}\n`);
  rmSync(libs, { recursive: true, force: true });
  renameSync(partial, libs);
  return libs;
}

// ---------------------------------------------------------------------------------------------
// Elasticsearch

export const localElasticsearch: LocalService<ElasticsearchEndpoint> = {
  name: 'elasticsearch',
  ports: (s) => [s.elasticsearchPort, s.elasticsearchTransportPort],
  endpoint: (s) => ({
    provider: 'local',
    url: `${s.secure ? 'https' : 'http'}://127.0.0.1:${s.elasticsearchPort}`,
    username: 'elastic',
    password: s.elasticPassword,
    ...(s.secure ? { caFile: stackCertificates(certificatesDir(s)).caFile } : {}),
  }),
  async start(s, report) {
    const javaHome = requireJava();
    requireMaven();
    const root = elasticsearchRoot(s);
    const home = elasticsearchHome(s, root, report);
    const config = join(home, 'config');
    if (s.secure) copyHttpCertificates(s, config);
    writeFileSync(join(config, 'elasticsearch.yml'), elasticsearchYml(s, root));
    mkdirSync(join(config, 'jvm.options.d'), { recursive: true });
    // A bounded heap: the machine also runs Kafka, the forwarder and the tests.
    const heap = s.elasticsearchHeap ?? '512m';
    writeFileSync(join(config, 'jvm.options.d', 'heap.options'), `-Xms${heap}\n-Xmx${heap}\n`);
    const env = { ...process.env, ES_JAVA_HOME: javaHome, ES_PATH_CONF: config };
    if (!existsSync(join(config, 'elasticsearch.keystore'))) {
      // Security is on: the `elastic` user gets the known password on the first start.
      run(join(home, 'bin', 'elasticsearch-keystore'), ['create'], 'creating the Elasticsearch keystore', { env });
      run(join(home, 'bin', 'elasticsearch-keystore'), ['add', '-x', '-f', 'bootstrap.password'], 'setting the elastic password', {
        env,
        input: s.elasticPassword,
      });
    }
    const runAs = isRoot() ? UNPRIVILEGED : undefined;
    if (runAs) chownTree(root, runAs.uid, runAs.gid);
    return startDetached({
      command: join(home, 'bin', 'elasticsearch'),
      args: [],
      cwd: home,
      env: { ...env, HOME: root },
      logFile: logFile(s, 'elasticsearch'),
      pidFile: pidFile(s, 'elasticsearch'),
      ...(runAs ? { runAs } : {}),
    });
  },
};

/**
 * Where Elasticsearch's files live. It refuses to run as root, so as root it runs as `nobody`,
 * which must be able to reach its folder: the state folder when every parent is open to others,
 * else a folder of its own under the system's temporary folder.
 */
function elasticsearchRoot(s: StackSettings): string {
  const inState = join(s.stateDir, 'elasticsearch');
  if (!isRoot() || traversableByOthers(s.stateDir)) return inState;
  const id = createHash('sha256').update(s.stateDir).digest('hex').slice(0, 12);
  const outside = join(tmpdir(), `okta-forwarder-elasticsearch-${id}`);
  mkdirSync(s.stateDir, { recursive: true });
  writeFileSync(join(s.stateDir, 'elasticsearch-location'), `${outside}\n`);
  return outside;
}

function traversableByOthers(path: string): boolean {
  mkdirSync(path, { recursive: true });
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/** Unpacks the integ-test zip (resolved by Maven) into the Elasticsearch folder, once per version. */
function elasticsearchHome(s: StackSettings, root: string, report: Report): string {
  const home = join(root, `elasticsearch-${s.elasticsearchVersion}`);
  if (existsSync(join(home, '.complete'))) return home;
  report(`elasticsearch: resolving org.elasticsearch.distribution.integ-test-zip:elasticsearch:${s.elasticsearchVersion} from Maven Central (first run only)`);
  const partial = join(root, `unpack-${randomUUID()}`);
  mkdirSync(partial, { recursive: true });
  run(
    'mvn',
    [
      ...MAVEN_FLAGS,
      '-f',
      join(PROJECT_ROOT, 'docker', 'local', 'pom.xml'),
      'dependency:unpack',
      `-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:${s.elasticsearchVersion}:zip`,
      `-DoutputDirectory=${partial}`,
      // The plugin skips artifacts it has unpacked before (by marker files): every new
      // Elasticsearch folder needs its own unpacking.
      '-Dmdep.overWriteReleases=true',
      `-Dstack.build.directory=${join(s.cacheDir, 'maven-build')}`,
    ],
    `resolving Elasticsearch ${s.elasticsearchVersion} with Maven`,
  );
  const unpacked = join(partial, `elasticsearch-${s.elasticsearchVersion}`);
  // The zip's unix modes do not survive Maven's unpacking: the launchers must be executable.
  for (const name of readdirSync(join(unpacked, 'bin'))) chmodSync(join(unpacked, 'bin', name), 0o755);
  writeFileSync(join(unpacked, '.complete'), `${new Date().toISOString()}\n`);
  rmSync(home, { recursive: true, force: true });
  renameSync(unpacked, home);
  rmSync(partial, { recursive: true, force: true });
  return home;
}

/** Elasticsearch reads only files in its configuration folder: the HTTP certificate goes there. */
function copyHttpCertificates(s: StackSettings, config: string): void {
  const certificates = stackCertificates(certificatesDir(s));
  mkdirSync(join(config, 'certs'), { recursive: true });
  for (const [from, to] of [
    [certificates.caFile, 'ca.pem'],
    [certificates.serverCertFile, 'http.pem'],
    [certificates.serverKeyFile, 'http-key.pem'],
  ] as const) {
    writeFileSync(join(config, 'certs', to), readFileSync(from));
  }
}

/**
 * Single node on loopback, security on with basic auth (the integ-test zip has x-pack-security),
 * over plain HTTP, or over HTTPS with the stack's certificate in the secure stack. Disk watermarks
 * are off so a nearly full disk does not turn test indices read-only.
 */
function elasticsearchYml(s: StackSettings, root: string): string {
  return [
    'cluster.name: okta-forwarder-local',
    'node.name: local',
    'network.host: 127.0.0.1',
    `http.port: ${s.elasticsearchPort}`,
    `transport.port: ${s.elasticsearchTransportPort}`,
    'discovery.type: single-node',
    `path.data: ${join(root, 'data')}`,
    `path.logs: ${join(root, 'logs')}`,
    'xpack.security.enabled: true',
    ...(s.secure
      ? [
          'xpack.security.http.ssl.enabled: true',
          'xpack.security.http.ssl.certificate: certs/http.pem',
          'xpack.security.http.ssl.key: certs/http-key.pem',
          'xpack.security.http.ssl.certificate_authorities: certs/ca.pem',
        ]
      : ['xpack.security.http.ssl.enabled: false']),
    'xpack.security.transport.ssl.enabled: false',
    'cluster.routing.allocation.disk.threshold_enabled: false',
    'action.destructive_requires_name: false',
    ...Object.entries(s.elasticsearchSettings ?? {}).map(([key, value]) => `${key}: ${value}`),
    '',
  ].join('\n');
}

/**
 * Gives a user of the local Elasticsearch's file realm this password and role, creating the user
 * when needed. Elasticsearch reloads the file by itself within seconds: a test's way to change a
 * password under a running client.
 */
export function setElasticsearchFileUser(s: StackSettings, user: { name: string; password: string; role: string }): void {
  const home = join(elasticsearchRoot(s), `elasticsearch-${s.elasticsearchVersion}`);
  const config = join(home, 'config');
  const env = { ...process.env, ES_JAVA_HOME: requireJava(), ES_PATH_CONF: config };
  const users = join(home, 'bin', 'elasticsearch-users');
  try {
    run(users, ['useradd', user.name, '-p', user.password, '-r', user.role], `adding the user ${user.name}`, { env });
  } catch {
    // The user exists already.
    run(users, ['passwd', user.name, '-p', user.password], `changing the password of ${user.name}`, { env });
  }
  if (isRoot()) chownTree(config, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), uid, gid);
}

// ---------------------------------------------------------------------------------------------
// Prometheus

export const localPrometheus: LocalService<PrometheusEndpoint> = {
  name: 'prometheus',
  ports: (s) => [s.prometheusPort],
  endpoint: (s) => ({ provider: 'local', url: `http://127.0.0.1:${s.prometheusPort}` }),
  async start(s, report) {
    const binary = requirePrometheus(report);
    const dir = join(s.stateDir, 'prometheus');
    mkdirSync(join(dir, 'data'), { recursive: true });
    for (const [name, content] of Object.entries(prometheusFiles(s))) writeFileSync(join(dir, name), content);
    const configFile = join(dir, 'prometheus.yml');
    return startDetached({
      command: binary,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${s.prometheusPort}`,
        '--storage.tsdb.retention.time=2d',
      ],
      cwd: dir,
      env: process.env,
      logFile: logFile(s, 'prometheus'),
      pidFile: pidFile(s, 'prometheus'),
    });
  },
};

/** The rule files that docker/prometheus/prometheus.yml names (rule_files), relative to it. */
export const PROMETHEUS_RULE_FILES = ['alerts.yml'] as const;

/**
 * The files of Prometheus's configuration folder, by name: docker/prometheus/prometheus.yml with
 * the local addresses filled in, and the rule files it names, which must lie beside it.
 */
export function prometheusFiles(s: StackSettings): Record<string, string> {
  const read = (name: string) => readFileSync(join(PROJECT_ROOT, 'docker', 'prometheus', name), 'utf8');
  const config = read('prometheus.yml')
    .replaceAll('${FORWARDER_METRICS_TARGET}', s.metricsTarget)
    .replaceAll('${PROMETHEUS_TARGET}', `127.0.0.1:${s.prometheusPort}`);
  return { 'prometheus.yml': config, ...Object.fromEntries(PROMETHEUS_RULE_FILES.map((name) => [name, read(name)])) };
}
