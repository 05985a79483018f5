import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_SCHEMA, loadConfig } from '../../src/config/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { baseImage, copies, DOCKER_DIR, environment, execForm, instructions, readDockerfile, stage } from '../support/dockerfile.js';
import { tempDir } from '../support/temp.js';

const dockerfile = readDockerfile();
const runtime = stage(dockerfile, 'runtime');
const METRICS_PORT = CONFIG_SCHEMA.metrics.port.default;
const IMAGE_CONFIG = '/etc/okta-forwarder/config.json';
const packageJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

function runs(stageName: string): string[] {
  return instructions(stage(dockerfile, stageName), 'RUN').map((run) => run.args);
}

describe('docker/Dockerfile', () => {
  it('builds in stages on Node 20 LTS slim, the runtime stage last (the default target)', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['build', 'production-dependencies', 'runtime']);
    for (const s of dockerfile.stages) expect(baseImage(dockerfile, s), s.name).toMatch(/^docker\.io\/library\/node:20(\.\d+){0,2}-(bookworm-)?slim$/);
  });

  it('compiles with the dev dependencies, and installs only production dependencies for the runtime', () => {
    const build = runs('build');
    expect(build.some((run) => /\bnpm ci\b/.test(run) && !run.includes('--omit=dev'))).toBe(true);
    expect(build.some((run) => /\btsc -p tsconfig\.json\b/.test(run))).toBe(true);
    const install = runs('production-dependencies').filter((run) => /\bnpm (ci|install)\b/.test(run));
    expect(install).toHaveLength(1);
    expect(install[0]).toMatch(/\bnpm ci\b.*--omit=dev/);
    expect(install[0]).toContain('--ignore-scripts');
  });

  it('gives the runtime stage exactly what the forwarder reads at run time, and runs nothing in it', () => {
    expect(instructions(runtime, 'RUN')).toEqual([]);
    expect(copies(runtime)).toEqual([
      { from: 'production-dependencies', sources: ['/app/node_modules'], destination: './node_modules' },
      { from: 'build', sources: ['/build/dist'], destination: './dist' },
      { from: undefined, sources: ['schemas/*.avsc'], destination: './schemas/' },
      { from: undefined, sources: ['package.json', 'package-lock.json'], destination: './' },
    ]);
    expect(instructions(runtime, 'WORKDIR').at(-1)?.args).toBe('/app');
    expect(instructions(stage(dockerfile, 'production-dependencies'), 'WORKDIR').at(-1)?.args).toBe('/app');
    expect(instructions(stage(dockerfile, 'build'), 'WORKDIR').at(-1)?.args).toBe('/build');
  });

  it('runs the CLI as a non-root user, with the configuration at /etc/okta-forwarder/config.json', () => {
    const user = instructions(runtime, 'USER').at(-1)?.args ?? 'root';
    const [uid, gid] = user.split(':');
    expect(Number(uid), 'a numeric uid, so a runtime can check it is not root').toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    expect(environment(runtime)).toEqual({ NODE_ENV: 'production', OKTA_FORWARDER_CONFIG: IMAGE_CONFIG });
    expect(execForm(instructions(runtime, 'ENTRYPOINT')[0]!)).toEqual(['node', `/app/${packageJson.bin['okta-forwarder']}`]);
    expect(execForm(instructions(runtime, 'CMD')[0]!)).toEqual(['run']);
    expect(instructions(runtime, 'EXPOSE').map((e) => e.args)).toEqual([String(METRICS_PORT)]);
  });

  it('checks health on /healthz of the metrics listener, at METRICS_PORT or the default port', () => {
    const healthcheck = instructions(runtime, 'HEALTHCHECK');
    expect(healthcheck).toHaveLength(1);
    const command = execForm(healthcheck[0]!);
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain('/healthz');
    expect(command[2]).toContain(`process.env.METRICS_PORT || ${METRICS_PORT}`);
  });

  it('lets into the build context only what the stages copy from it (Dockerfile.dockerignore)', () => {
    const ignore = readFileSync(join(DOCKER_DIR, 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.slice(1).map((line) => line.replace(/^!/, ''));
    const copied = dockerfile.stages.flatMap((s) => copies(s).filter((c) => c.from === undefined).flatMap((c) => c.sources));
    expect(new Set(allowed)).toEqual(new Set(copied));
    for (const source of copied) {
      const dir = source.endsWith('/*.avsc') ? source.slice(0, -'/*.avsc'.length) : source;
      expect(existsSync(join(PROJECT_ROOT, dir)), source).toBe(true);
    }
  });
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  volumes?: string[];
  configs?: { source: string; target: string }[];
  secrets?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  deploy?: { replicas?: number | string };
}

interface Compose {
  services: Record<string, ComposeService>;
  configs: Record<string, { file: string }>;
  secrets: Record<string, { file: string }>;
}

const compose = parse(readFileSync(join(DOCKER_DIR, 'compose.yml'), 'utf8')) as Compose;
const services = compose.services;

/** A compose value with its variables at their defaults (`${NAME:-default}`), as when none is set. */
function withDefaults(value: string | number | undefined): string {
  return String(value).replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}/g, '$1');
}

/** A path of the compose file, relative to docker/, made absolute. */
function composePath(path: string): string {
  return resolve(DOCKER_DIR, withDefaults(path));
}

/** The bind mounts of a service: host path (absolute) and container path. */
function mounts(service: ComposeService): { host: string; container: string }[] {
  return (service.volumes ?? [])
    .filter((volume) => volume.startsWith('.'))
    .map((volume) => {
      const [host, container] = volume.split(':');
      return { host: composePath(host!), container: container! };
    });
}

describe('docker/compose.yml', () => {
  it('runs Kafka (KRaft), Elasticsearch, Prometheus, Grafana and the forwarder; the demo profile adds the Okta simulator', () => {
    expect(Object.keys(services).sort()).toEqual(['elasticsearch', 'forwarder', 'grafana', 'kafka', 'okta-simulator', 'prometheus']);
    for (const [name, service] of Object.entries(services)) {
      expect(service.profiles, name).toEqual(name === 'okta-simulator' ? ['demo'] : undefined);
    }
    expect(services.kafka!.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(services.kafka!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(JSON.stringify(services.kafka)).not.toMatch(/zookeeper/i);
    expect(services.prometheus!.image).toMatch(/^prom\/prometheus:v\d/);
    expect(services.grafana!.image).toMatch(/^grafana\/grafana:\d/);
  });

  it('runs an Elasticsearch of the version the forwarder\'s client speaks', () => {
    const client = /(\d+)\.(\d+)/.exec(packageJson.dependencies['@elastic/elasticsearch']!)!;
    expect(services.elasticsearch!.image).toMatch(new RegExp(`^docker\\.elastic\\.co/elasticsearch/elasticsearch:${client[1]}\\.${client[2]}\\.\\d+$`));
  });

  it('checks the health of every service, and starts the forwarder once Kafka and Elasticsearch are healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      // The forwarder's own check is the image's HEALTHCHECK.
      if (name !== 'forwarder') expect(service.healthcheck?.test, name).toBeDefined();
    }
    expect(services.forwarder!.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      elasticsearch: { condition: 'service_healthy' },
      'okta-simulator': { condition: 'service_healthy', required: false },
    });
    expect(services.grafana!.depends_on).toEqual({ prometheus: { condition: 'service_healthy' } });
  });

  it('builds the forwarder from docker/Dockerfile and the simulator runs the same image', () => {
    const { build, image } = services.forwarder!;
    expect(resolve(DOCKER_DIR, build!.context)).toBe(resolve(PROJECT_ROOT));
    expect(resolve(PROJECT_ROOT, build!.dockerfile)).toBe(join(DOCKER_DIR, 'Dockerfile'));
    expect(services['okta-simulator']!.image).toBe(image);
    expect(services['okta-simulator']!.build).toEqual(build);
    expect(services['okta-simulator']!.command![0]).toBe('simulate');
  });

  it('runs replicas of the forwarder on a read-only root, without capabilities', () => {
    for (const name of ['forwarder', 'okta-simulator']) {
      const service = services[name]!;
      expect(service.read_only, name).toBe(true);
      expect(service.cap_drop, name).toEqual(['ALL']);
    }
    expect(Number(withDefaults(services.forwarder!.deploy!.replicas))).toBeGreaterThanOrEqual(2);
  });

  it('mounts files that exist: the alert rules, the Prometheus configuration, Grafana\'s provisioning and dashboards, the configuration, the secrets', () => {
    const mounted = Object.values(services).flatMap(mounts);
    for (const { host } of mounted) expect(existsSync(host), host).toBe(true);
    for (const { file } of [...Object.values(compose.configs), ...Object.values(compose.secrets)]) expect(existsSync(composePath(file)), file).toBe(true);
    const prometheus = Object.fromEntries(mounts(services.prometheus!).map((m) => [m.container, m.host]));
    expect(prometheus['/etc/prometheus/alerts.yml']).toBe(join(DOCKER_DIR, 'prometheus', 'alerts.yml'));
    const grafana = Object.fromEntries(mounts(services.grafana!).map((m) => [m.container, m.host]));
    expect(grafana['/etc/grafana/provisioning']).toBe(join(DOCKER_DIR, 'grafana', 'provisioning'));
    expect(grafana[String(services.grafana!.environment!.OKTA_FORWARDER_DASHBOARDS)]).toBe(join(DOCKER_DIR, 'grafana', 'dashboards'));
    expect(services.grafana!.environment!.PROMETHEUS_URL).toBe('http://prometheus:9090');
  });

  it('has Prometheus load the alert rules and scrape every forwarder replica on the metrics port', () => {
    const config = parse(readFileSync(mounts(services.prometheus!).find((m) => m.container === '/etc/prometheus/prometheus.yml')!.host, 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; type: string; port: number }[] }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const job = config.scrape_configs.find((c) => c.job_name === 'okta-forwarder');
    expect(job?.dns_sd_configs).toEqual([expect.objectContaining({ names: ['forwarder'], type: 'A', port: METRICS_PORT })]);
  });

  it('gives the forwarder a configuration at the image\'s path that loads, reads the stack\'s services and takes its secrets from files', () => {
    const forwarder = services.forwarder!;
    expect(forwarder.configs).toEqual([{ source: 'okta-forwarder-config', target: IMAGE_CONFIG }]);
    expect(environment(runtime).OKTA_FORWARDER_CONFIG).toBe(IMAGE_CONFIG);
    // The configuration as the container sees it, with the secrets at /run/secrets put in a folder here.
    const dir = tempDir();
    const text = readFileSync(composePath(compose.configs['okta-forwarder-config']!.file), 'utf8');
    for (const name of forwarder.secrets!) copyFileSync(composePath(compose.secrets[name]!.file), join(dir, name));
    const file = join(dir, 'config.json');
    writeFileSync(file, text.replaceAll('/run/secrets/', `${dir}/`));
    const { config } = loadConfig({ file, env: {} });
    expect(config.kafka.brokers).toEqual(['kafka:9092']);
    expect(config.elasticsearch.nodes).toEqual(['http://elasticsearch:9200']);
    expect(config.metrics.port).toBe(METRICS_PORT);
    expect(config.okta.orgs.map((org) => org.domain)).toEqual(['okta-simulator:8085']);
    // Every secret it names is one of the service's secrets, and it holds none inline.
    const named = [...text.matchAll(/"\/run\/secrets\/([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(named)).toEqual(new Set(forwarder.secrets));
    expect(config.elasticsearch.auth.password).toBe('');
  });

  it('gives the simulator, the forwarder and Elasticsearch their shared secrets from the same files', () => {
    const simulator = services['okta-simulator']!;
    expect(simulator.secrets).toEqual(['okta-api-token']);
    expect(simulator.command).toEqual(expect.arrayContaining(['--token-file', '/run/secrets/okta-api-token', '--host', '0.0.0.0', '--port', '8085']));
    expect(services.elasticsearch!.secrets).toEqual(['elasticsearch-password']);
    expect(services.elasticsearch!.environment!.ELASTIC_PASSWORD_FILE).toBe('/run/secrets/elasticsearch-password');
    expect(services.grafana!.environment!.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe('/run/secrets/grafana-admin-password');
  });
});

const UNIT_FILE = join(DOCKER_DIR, 'systemd', 'okta-forwarder.service');

/** A unit file's settings, each key with its values in order (a key may repeat). */
function readUnit(path: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const at = line.indexOf('=');
    const key = `${section}.${line.slice(0, at)}`;
    settings.set(key, [...(settings.get(key) ?? []), line.slice(at + 1)]);
  }
  return settings;
}

function systemdAnalyze(...args: string[]): { code: number | null; output: string } | undefined {
  const result = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('docker/systemd/okta-forwarder.service', () => {
  const unit = readUnit(UNIT_FILE);
  const one = (key: string) => unit.get(`Service.${key}`)?.at(-1);

  it('runs the image\'s file set from /opt/okta-forwarder with the configuration at the image\'s path', () => {
    expect(one('ExecStart')).toBe(`/usr/bin/node /opt/okta-forwarder/${packageJson.bin['okta-forwarder']} run`);
    expect(unit.get('Service.Environment')).toEqual(expect.arrayContaining([`OKTA_FORWARDER_CONFIG=${IMAGE_CONFIG}`, 'NODE_ENV=production']));
    expect(one('EnvironmentFile')).toBe('-/etc/okta-forwarder/okta-forwarder.env');
    expect(existsSync(join(DOCKER_DIR, 'systemd', 'okta-forwarder.env'))).toBe(true);
  });

  it('hands the secrets over as credentials, and restarts on failure but not on a wrong configuration', () => {
    const credentials = unit.get('Service.LoadCredential') ?? [];
    expect(credentials.map((c) => c.split(':')[0]).sort()).toEqual(['elasticsearch-password', 'okta-api-token']);
    for (const credential of credentials) expect(credential).toBe(`${credential.split(':')[0]}:/etc/okta-forwarder/credentials/${credential.split(':')[0]}`);
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartSec')).toMatch(/^\d+s$/);
    expect(one('RestartPreventExitStatus')).toBe('2');
    expect(one('KillSignal')).toBe('SIGTERM');
  });

  it('is hardened: no privileges, no writable path, few system calls and address families, bounded memory', () => {
    expect({
      DynamicUser: one('DynamicUser'),
      NoNewPrivileges: one('NoNewPrivileges'),
      ProtectSystem: one('ProtectSystem'),
      ProtectHome: one('ProtectHome'),
      PrivateTmp: one('PrivateTmp'),
      PrivateDevices: one('PrivateDevices'),
      CapabilityBoundingSet: one('CapabilityBoundingSet'),
      RestrictAddressFamilies: one('RestrictAddressFamilies'),
      SystemCallFilter: unit.get('Service.SystemCallFilter'),
      ReadOnlyPaths: one('ReadOnlyPaths'),
    }).toEqual({
      DynamicUser: 'yes',
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      CapabilityBoundingSet: '',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
      SystemCallFilter: ['@system-service', '~@privileged'],
      ReadOnlyPaths: '/opt/okta-forwarder /etc/okta-forwarder',
    });
    expect(unit.has('Service.ReadWritePaths')).toBe(false);
    expect(one('MemoryMax')).toMatch(/^\d+[MG]$/);
    // V8's JIT writes code and then runs it: this setting would stop Node at start.
    expect(one('MemoryDenyWriteExecute')).toBeUndefined();
  });

  it('passes systemd-analyze verify without a warning, with an exposure of at most 2.0 ("OK")', (context) => {
    // verify wants ExecStart's program to exist: where Node is not /usr/bin/node, a copy names this one.
    let file = UNIT_FILE;
    if (!existsSync('/usr/bin/node')) {
      file = join(tempDir(), 'okta-forwarder.service');
      writeFileSync(file, readFileSync(UNIT_FILE, 'utf8').replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
    }
    const verify = systemdAnalyze('verify', file);
    if (!verify) return context.skip('systemd-analyze is not installed; the unit is checked statically only');
    expect(verify.output).toBe('');
    expect(verify.code).toBe(0);
    const security = systemdAnalyze('security', '--offline=true', file);
    if (!security || /unrecognized option|--offline/.test(security.output)) return;
    const exposure = /Overall exposure level for okta-forwarder\.service: (\d+\.\d+)/.exec(security.output);
    expect(exposure, security.output).not.toBeNull();
    expect(Number(exposure![1])).toBeLessThanOrEqual(2);
  });
});
