import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/cli.js';
import { freePort, freePorts } from '../support/net.js';
import { canaryValue, carrierForms, leaksIn, merge, REFLECTION_MARKER, secretSettings, startReflectingServer, type Canary, type ReflectionShape } from '../support/secrets.js';
import { kafkaEndpoint } from '../support/stack.js';
import { uniqueName } from '../support/wait.js';

/**
 * No secret reaches any output. A canary in every secret setting of the schema (enumerated from
 * it: a new secret setting is covered without a change here), over every command of the built
 * CLI (dist/), in the ways it fails: an invalid configuration, servers that echo the request with
 * its credentials in their error (Okta, the OAuth token endpoint, the schema registry,
 * Elasticsearch; as JSON, as a text page, as an HTML page), Kafka and every server unreachable,
 * Kafka refusing SASL, and a crash. What is checked: stdout, stderr (log lines included), /metrics,
 * /readyz and /status, for each canary as is, JSON-escaped, URL-encoded, base64, its first characters,
 * and with its user name as `user:password` and its base64.
 *
 * A long-running command may not exit by itself in a failure (it waits for what is missing): it
 * is read until the failure shows, then stopped with SIGTERM.
 */

const COMMAND_TIMEOUT_MS = 60_000;

interface Run {
  command: string;
  stdout: string;
  stderr: string;
  /** What /metrics, /readyz and /status served while the command ran ('' when it served nothing). */
  served: string;
  code: number | null;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'okta-forwarder-secrets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `node dist/cli/main.js ...args` until it exits, or until its output matches `until` (then
 * its /metrics and /readyz are read when `metricsPort` is given, and it is stopped with SIGTERM),
 * or until the time is up.
 */
async function runBuiltCli(args: string[], env: NodeJS.ProcessEnv, options: { until?: RegExp; metricsPort?: number; nodeArgs?: string[] } = {}): Promise<Run> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), 'dist/cli/main.js', ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'debug', ...env, ...(options.metricsPort ? { METRICS_PORT: String(options.metricsPort) } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { command: args.join(' '), stdout: '', stderr: '', served: '', code: null };
  let seen: () => void = () => undefined;
  const shown = new Promise<void>((resolve) => (seen = resolve));
  const check = () => {
    if (options.until?.test(run.stdout + run.stderr)) seen();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    run.stdout += chunk;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    run.stderr += chunk;
    check();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, COMMAND_TIMEOUT_MS)));
  const first = await Promise.race([exited.then(() => 'exited' as const), shown.then(() => 'shown' as const), timeUp.then(() => 'time' as const)]);
  clearTimeout(timer);
  if (first !== 'exited') {
    if (options.metricsPort) run.served = await readServed(options.metricsPort);
    child.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000))]);
    if (!stopped) child.kill('SIGKILL');
  }
  run.code = await exited;
  return run;
}

/** /metrics, /readyz and /status, trying for a few seconds: the listener may open after the command started. */
async function readServed(port: number): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      const readyz = await (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })).text();
      const status = await (await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(5000) })).text();
      return `${metrics}\n${readyz}\n${status}`;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return '';
}

function everything(runs: Run[]): string {
  return runs.map((run) => `${run.stdout}\n${run.stderr}\n${run.served}`).join('\n');
}

/** The leaks of each run, named by command: {} when nothing leaked. */
function leaksByCommand(runs: Run[], canaries: readonly Canary[]): Record<string, string[]> {
  const leaks = runs.map((run) => [run.command, leaksIn(`${run.stdout}\n${run.stderr}\n${run.served}`, canaries)] as const);
  return Object.fromEntries(leaks.filter(([, found]) => found.length > 0));
}

interface Setup {
  file: string;
  env: Record<string, string>;
  canaries: Canary[];
  /** An org of the configuration, for `import --org`. */
  org: string;
}

/**
 * A configuration file with a canary in every secret setting; Okta orgs, the schema registry and
 * Elasticsearch at `server` (host:port, plain HTTP); Kafka at `brokers`.
 */
function secretConfiguration(
  server: string,
  brokers: string[],
  options: { sasl?: boolean; registry?: boolean; skip?: (setting: string) => boolean; extraEnv?: Record<string, string> } = {},
): Setup {
  const setupDir = mkdtempSync(join(dir, 'setup-'));
  const secrets = secretSettings(setupDir, server, { skip: options.skip });
  // kafka.tls.keyFile (a secret) needs its certificate beside it to validate; TLS itself stays off.
  const certFile = join(setupDir, 'client-cert.pem');
  writeFileSync(certFile, 'not used: kafka.tls.enabled is false\n');
  const config = merge(secrets.config, {
    kafka: {
      brokers,
      clientId: uniqueName('it-secrets'),
      topics: { events: uniqueName('it-secrets-events'), checkpoints: uniqueName('it-secrets-checkpoints'), deadLetter: uniqueName('it-secrets-dlq'), pollers: uniqueName('it-secrets-pollers') },
      pollerGroup: uniqueName('it-secrets-pollers'),
      eventsPartitions: 1,
      consumerGroup: uniqueName('it-secrets-sink'),
      tls: { certFile },
      sasl: { mechanism: options.sasl ? 'plain' : 'none' },
    },
    // Without a registry URL its password is still set (and must not show), but nothing asks the registry.
    schemaRegistry: { url: options.registry === false ? '' : `http://${server}` },
    elasticsearch: { nodes: [`http://${server}`], indexPrefix: uniqueName('it-secrets') },
    metrics: { host: '127.0.0.1', port: 0 },
  });
  const file = join(setupDir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const orgs = (config.okta as { orgs: { id: string }[] }).orgs;
  return { file, env: { ...secrets.env, ...options.extraEnv }, canaries: secrets.canaries, org: orgs[0]?.id ?? 'acme' };
}

function importFile(): string {
  const file = join(dir, `import-${uniqueName('lines')}.ndjson`);
  writeFileSync(file, '{"uuid":"5f1c2a7e-0000-4000-8000-000000000001","published":"2026-01-02T03:04:05.000Z","eventType":"user.session.start"}\n');
  return file;
}

describe('no secret reaches any output', () => {
  it('an invalid configuration, with credentials in ELASTICSEARCH_URL and SCHEMA_REGISTRY_URL, shows none, whatever the command', async () => {
    const esUrl: Canary = { setting: 'ELASTICSEARCH_URL', value: canaryValue('es-url'), username: 'es-user' };
    const registryUrl: Canary = { setting: 'SCHEMA_REGISTRY_URL', value: canaryValue('registry-url'), username: 'registry-user' };
    const setup = secretConfiguration('127.0.0.1:1', ['127.0.0.1:1'], {
      extraEnv: {
        ELASTICSEARCH_URL: `http://${esUrl.username}:${encodeURIComponent(esUrl.value)}@127.0.0.1:9200`,
        SCHEMA_REGISTRY_URL: `http://${registryUrl.username}:${encodeURIComponent(registryUrl.value)}@127.0.0.1:8081`,
      },
    });
    const canaries = [...setup.canaries, esUrl, registryUrl];
    const commands = [['config'], ['check'], ['status'], ['poll'], ['sink'], ['run'], ['import', importFile(), '--org', setup.org]];
    const runs = await Promise.all(commands.map((args) => runBuiltCli([...args, '--config', setup.file], setup.env)));
    for (const run of runs) {
      expect(run.code, `${run.command}: ${run.stderr}`).toBe(2);
      expect(run.stderr, run.command).toMatch(/elasticsearch\.nodes: must not carry credentials in the URL.*value was \["http:\/\/[^"]*\[REDACTED\][^"]*@127\.0\.0\.1:9200"\]/);
      expect(run.stderr, run.command).toMatch(/schemaRegistry\.url: must not carry credentials/);
    }
    expect(leaksByCommand(runs, canaries)).toEqual({});
  });

  it('normalize prints no configured secret, in a document or in a line it reports', async () => {
    const setup = secretConfiguration('127.0.0.1:1', ['127.0.0.1:1']);
    const secret = setup.canaries[0] as Canary;
    const input = join(dir, 'events-with-secrets.ndjson');
    const event = { uuid: '5f1c2a7e-0000-4000-8000-000000000002', published: '2026-01-02T03:04:05.000Z', eventType: 'user.session.start', displayMessage: `note ${secret.value}`, actor: { id: 'a', type: 'User', alternateId: Buffer.from(secret.value).toString('base64') } };
    writeFileSync(input, `${JSON.stringify(event)}\n{"uuid": ${secret.value}}\n`);
    const run = await runBuiltCli(['normalize', input, '--config', setup.file], setup.env);
    expect(run.stdout).toContain('5f1c2a7e-0000-4000-8000-000000000002');
    expect(run.stderr).toMatch(/line 2/);
    expect(leaksByCommand([run], setup.canaries)).toEqual({});
  });

  for (const shape of ['json', 'text', 'html'] as ReflectionShape[]) {
    it(`check prints no secret when every server answers with the request echoed (${shape}), with an API key or a password for Elasticsearch`, async () => {
      const server = await startReflectingServer(shape);
      try {
        const withApiKey = secretConfiguration(server.host, kafkaEndpoint().brokers);
        const withPassword = secretConfiguration(server.host, kafkaEndpoint().brokers, { skip: (setting) => setting.startsWith('elasticsearch.auth.apiKey') });
        const runs = await Promise.all([withApiKey, withPassword].map((setup) => runBuiltCli(['check', '--config', setup.file], setup.env)));
        for (const run of runs) {
          expect(run.code).toBe(1);
          // The echo reached the output: what was scrubbed was really there.
          expect(run.stdout, run.stdout).toContain(REFLECTION_MARKER);
          expect(run.stdout).toMatch(/FAIL {2}okta authtokenfile: authentication/);
          expect(run.stdout).toMatch(/FAIL {2}schema registry/);
          expect(run.stdout).toMatch(/FAIL {2}elasticsearch: authentication/);
        }
        // status asks Elasticsearch too, and reports what it answered.
        const statuses = await Promise.all([withApiKey, withPassword].map((setup) => runBuiltCli(['status', '--config', setup.file], setup.env)));
        for (const run of statuses) {
          expect(run.code, run.stderr).toBe(4);
          expect(run.stdout).toMatch(/^Elasticsearch: unreachable/m);
        }
        expect(leaksByCommand([...runs, ...statuses], [...withApiKey.canaries, ...withPassword.canaries])).toEqual({});
      } finally {
        await server.close();
      }
    });
  }

  it('poll, sink, run and import print and serve no secret while Okta, the registry and Elasticsearch echo the request in their errors', async () => {
    const server = await startReflectingServer('json');
    try {
      const setup = secretConfiguration(server.host, kafkaEndpoint().brokers);
      // The poller registers its schema before it asks Okta: without a registry, it goes on to Okta.
      const withoutRegistry = secretConfiguration(server.host, kafkaEndpoint().brokers, { registry: false });
      const ports = await freePorts(3);
      const until = new RegExp(REFLECTION_MARKER);
      // The sink reports Elasticsearch's refusal by its type; the echo is in the error it carries.
      const refused = /security_exception/;
      const runs = await Promise.all([
        runBuiltCli(['poll', '--config', withoutRegistry.file], withoutRegistry.env, { until, metricsPort: ports[0] }),
        runBuiltCli(['sink', '--config', setup.file], setup.env, { until: refused, metricsPort: ports[1] }),
        runBuiltCli(['run', '--config', withoutRegistry.file], withoutRegistry.env, { until, metricsPort: ports[2] }),
        runBuiltCli(['import', importFile(), '--org', setup.org, '--config', setup.file], setup.env, { until }),
      ]);
      for (const run of runs) expect(run.stdout + run.stderr, run.command).toMatch(run.command.startsWith('sink') ? refused : until);
      expect(everything(runs)).toMatch(/okta_forwarder_/); // /metrics was read at least once
      expect(leaksByCommand(runs, [...setup.canaries, ...withoutRegistry.canaries])).toEqual({});
    } finally {
      await server.close();
    }
  });

  it('no command prints a secret when Kafka and every server are unreachable, or Kafka refuses SASL', async () => {
    const [closed] = await freePorts(1);
    const unreachable = secretConfiguration(`127.0.0.1:${closed}`, [`127.0.0.1:${closed}`], { sasl: true });
    const refusing = secretConfiguration(`127.0.0.1:${closed}`, kafkaEndpoint().brokers, { sasl: true });
    const until = /kafka|ECONNREFUSED|connection refused/i;
    const ports = await freePorts(3);
    const runs = await Promise.all([
      runBuiltCli(['check', '--config', unreachable.file], unreachable.env),
      runBuiltCli(['check', '--config', refusing.file], refusing.env),
      runBuiltCli(['status', '--config', unreachable.file], unreachable.env),
      runBuiltCli(['status', '--config', refusing.file], refusing.env),
      runBuiltCli(['poll', '--config', unreachable.file], unreachable.env, { until, metricsPort: ports[0] }),
      runBuiltCli(['sink', '--config', unreachable.file], unreachable.env, { until, metricsPort: ports[1] }),
      runBuiltCli(['run', '--config', refusing.file], refusing.env, { until, metricsPort: ports[2] }),
      runBuiltCli(['import', importFile(), '--org', unreachable.org, '--config', unreachable.file], unreachable.env, { until }),
    ]);
    expect(runs[0]?.stdout).toMatch(/FAIL {2}kafka: brokers/);
    expect(runs[1]?.stdout).toMatch(/FAIL {2}kafka: brokers/);
    for (const run of runs.slice(2, 4)) expect(run.stderr, run.command).toMatch(/^okta-forwarder: reading the status from Kafka/);
    expect(leaksByCommand(runs, [...unreachable.canaries, ...refusing.canaries])).toEqual({});
  });

  it('a crash (an uncaught exception, an unhandled rejection) prints no secret, in any form', async () => {
    const server = await startReflectingServer('json');
    try {
      const setup = secretConfiguration(server.host, kafkaEndpoint().brokers, { registry: false });
      // Every form of every canary, in the message of the error the process dies of.
      const crashText = `${REFLECTION_MARKER} ${setup.canaries.flatMap((canary) => carrierForms(canary)).join(' | ')}`;
      // Thrown once the CLI runs (it has taken stderr over, or a second has passed): what a bug in any code path would do.
      const crash = (how: string) =>
        `data:text/javascript,${encodeURIComponent(
          `const original = process.stderr.write; const started = Date.now(); const timer = setInterval(() => { if (process.stderr.write !== original || Date.now() - started > 1000) { clearInterval(timer); setTimeout(() => { ${how} }, 50); } }, 1);`,
        )}`;
      const metricsPort = await freePort();
      const runs = await Promise.all([
        runBuiltCli(['poll', '--config', setup.file], { ...setup.env, CRASH_TEXT: crashText }, { nodeArgs: ['--import', crash('throw new Error(process.env.CRASH_TEXT)')], metricsPort }),
        runBuiltCli(['sink', '--config', setup.file], { ...setup.env, CRASH_TEXT: crashText }, { nodeArgs: ['--import', crash('Promise.reject(new Error(process.env.CRASH_TEXT))')] }),
      ]);
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain('unexpected failure');
        expect(run.stderr).toContain(REFLECTION_MARKER);
      }
      expect(leaksByCommand(runs, setup.canaries)).toEqual({});
    } finally {
      await server.close();
    }
  });
});
