import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { logSummary, runProcess, spawnProcess, type CliResult } from '../support/cli.js';
import { documentCount, testIndexClient } from '../support/elasticsearch.js';
import { freePort } from '../support/net.js';
import { assembleRuntimeFileSet, confinement, imageConfiguration, UNPRIVILEGED_ID, type RuntimeFileSet } from '../support/runtime-image.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

/**
 * The image without a container engine: the runtime stage of docker/Dockerfile assembled here COPY
 * by COPY (production dependencies only), made read-only, and run as the image runs it (its
 * ENTRYPOINT, its ENV, its configuration path, secrets as files) by an unprivileged user against
 * the real Kafka and Elasticsearch and the Okta simulator. What a container engine adds (the
 * base image, namespaces, the HEALTHCHECK scheduler) is not tested here.
 */
const confined = confinement();

/** Where and with what the image's processes run: its WORKDIR, its ENV, no usable home. */
function imageProcess(fileSet: RuntimeFileSet, env: Record<string, string>) {
  return { cwd: fileSet.appDir, env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env } };
}

/** Runs `argv` confined until it exits; stdout and stderr together. */
async function runConfined(fileSet: RuntimeFileSet, argv: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const [command, ...args] = confined.command(argv);
  const { code, stdout, stderr }: CliResult = await runProcess(command!, args, imageProcess(fileSet, env));
  return { code, output: `${stdout}${stderr}` };
}

describe(`the runtime stage of docker/Dockerfile, without a container engine, ${confined.description}`, () => {
  let fileSet: RuntimeFileSet;
  let sim: SimulatorHandle;
  const token = uniqueName('token');
  const es = elasticsearchEndpoint();
  const prefix = uniqueName('it-image');
  let env: Record<string, string>;
  let metricsPort: number;

  beforeAll(async () => {
    fileSet = assembleRuntimeFileSet();
    sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity });
    sim.generate(1_000, { from: Date.now() - 86_400_000, to: Date.now() - 1000 });
    // The configuration and the secrets where the image has them: /etc/okta-forwarder/config.json
    // (mounted, read-only) and /run/secrets (files readable by the forwarder's user only).
    const secrets = fileSet.path('/run/secrets');
    mkdirSync(secrets, { recursive: true });
    const secretFiles: string[] = [];
    const secret = (name: string, value: string) => {
      const file = join(secrets, name);
      writeFileSync(file, `${value}\n`);
      if (confined.switchesUser) chownSync(file, UNPRIVILEGED_ID, UNPRIVILEGED_ID);
      secretFiles.push(file);
      return file;
    };
    const configFile = fileSet.env.OKTA_FORWARDER_CONFIG!;
    expect(configFile).toBe(fileSet.path('/etc/okta-forwarder/config.json'));
    mkdirSync(join(configFile, '..'), { recursive: true });
    const configuration = imageConfiguration({
      oktaDomain: sim.domain,
      tokenFile: secret('okta-api-token', token),
      passwordFile: secret('elasticsearch-password', es.password),
      indexPrefix: prefix,
      metricsHost: '127.0.0.1',
    });
    writeFileSync(configFile, JSON.stringify(configuration));
    fileSet.freeze();
    for (const file of secretFiles) chmodSync(file, 0o400);
    metricsPort = await freePort();
    // The image's environment; the port through METRICS_PORT, as the README says to move it.
    env = { ...fileSet.env, METRICS_PORT: String(metricsPort) };
  }, 180_000);

  afterAll(async () => {
    await sim?.close();
    fileSet?.remove();
  });

  it('holds production dependencies only, and nothing the runtime does not read', () => {
    const listing = spawnSync('find', ['.', '-maxdepth', '1'], { cwd: fileSet.appDir, encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
    expect(listing).toEqual(['.', './dist', './node_modules', './package-lock.json', './package.json', './schemas']);
    const modules = spawnSync('npm', ['ls', '--all', '--parseable', '--omit=dev'], { cwd: fileSet.appDir, encoding: 'utf8' });
    const dev = spawnSync('npm', ['ls', '--parseable', '--include=dev', 'typescript', 'vitest', 'tsx', 'testcontainers'], { cwd: fileSet.appDir, encoding: 'utf8' });
    expect(modules.stdout).toContain('node_modules/kafkajs');
    expect(dev.stdout.trim().split('\n').filter((line) => line.includes('node_modules'))).toEqual([]);
  });

  it('cannot be written by the forwarder\'s user: not its folder, not its configuration, nor (as root) anywhere on the root filesystem', async () => {
    const targets = [fileSet.appDir, join(fileSet.appDir, 'dist'), join(fileSet.env.OKTA_FORWARDER_CONFIG!, '..'), ...(confined.readOnlyRoot ? ['/tmp', '/var/tmp', '/'] : [])];
    const script = `const fs = require('node:fs'); for (const dir of ${JSON.stringify(targets)}) { try { fs.writeFileSync(dir + '/okta-forwarder-probe', 'x'); console.log('WROTE ' + dir); } catch (e) { console.log(e.code + ' ' + dir); } }`;
    const { code, output } = await runConfined(fileSet, [process.execPath, '-e', script], env);
    expect(code, output).toBe(0);
    expect(output).not.toContain('WROTE');
    expect(output.trim().split('\n')).toHaveLength(targets.length);
    if (confined.switchesUser) {
      const whoami = await runConfined(fileSet, [process.execPath, '-e', 'console.log(JSON.stringify([process.getuid(), process.getgid(), process.getgroups()]))'], env);
      const [uid, gid, groups] = JSON.parse(whoami.output) as [number, number, number[]];
      // Node lists the effective group among the supplementary ones; setpriv left no other.
      expect({ uid, gid, groups: groups.filter((group) => group !== gid) }).toEqual({ uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID, groups: [] });
    }
  });

  it('passes `check` and then `run` polls and indexes every event, serving /healthz to the image\'s HEALTHCHECK, and stops on SIGTERM', { timeout: 150_000 }, async () => {
    const check = await runConfined(fileSet, [...fileSet.entrypoint, 'check'], env);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toMatch(/(\d+) of \1 checks passed/);
    expect(check.output).not.toMatch(/^FAIL/m);

    const [command, ...args] = confined.command([...fileSet.entrypoint, 'run']);
    const forwarder = spawnProcess(command!, args, imageProcess(fileSet, env));
    const output = forwarder.output;
    const client = testIndexClient(prefix);
    const health = await waitFor(() => fetch(`http://127.0.0.1:${metricsPort}/healthz`).catch(() => undefined), () => `/healthz; output: ${logSummary(output())}`, 30_000);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const healthcheck = await runConfined(fileSet, fileSet.healthcheck, env);
    expect(healthcheck.code, healthcheck.output).toBe(0);

    await waitFor(async () => (await documentCount(client, prefix)) === 1_000, () => `all 1,000 documents; output: ${logSummary(output())}`, 120_000);
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect(ready.status, await ready.clone().text()).toBe(200);
    expect(((await ready.json()) as { connectors: Record<string, string> }).connectors).toEqual({ acme: 'connected' });
    // Nothing tried to write: a read-only root would have shown it as EROFS, a read-only folder as EACCES.
    expect(output()).not.toMatch(/EROFS|EACCES|read-only file system/i);

    forwarder.child.kill('SIGTERM');
    expect(await forwarder.exited, logSummary(output())).toBe(0);
    const afterStop = await runConfined(fileSet, fileSet.healthcheck, env);
    expect(afterStop.code, 'the HEALTHCHECK fails once the process is gone').not.toBe(0);
  });
});
