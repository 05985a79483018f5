import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { engine, engineStatus, findContainerEngine, type ContainerEngine } from '../support/container-engine.js';
import { baseImage, readDockerfile, stage } from '../support/dockerfile.js';
import { documentCount, testIndexClient } from '../support/elasticsearch.js';
import { freePort } from '../support/net.js';
import { imageConfiguration } from '../support/runtime-image.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';

/**
 * The image itself, where a container engine runs: built from docker/Dockerfile, then run as a
 * user would run it (read-only root, no capabilities, configuration and secrets mounted) against
 * the stack's Kafka and Elasticsearch on the host network. OKTA_FORWARDER_NODE_IMAGE names another
 * base image than the Dockerfile's (a mirror, or a local copy where Docker Hub is out of reach).
 * Without an engine that runs a container, the tests are skipped and say why; the runtime stage's
 * files are still run by container-runtime.test.ts.
 */
const BASE_IMAGE = process.env.OKTA_FORWARDER_NODE_IMAGE || baseImage(readDockerfile(), stage(readDockerfile(), 'runtime'));
const search = findContainerEngine(BASE_IMAGE);
const title = search.engine
  ? `the image of docker/Dockerfile, built and run by ${search.engine.description} on ${BASE_IMAGE}`
  : `the image of docker/Dockerfile (skipped: no container engine runs ${BASE_IMAGE} here; ${search.tried.join('; ')})`;

describe.skipIf(!search.engine)(title, () => {
  const used = search.engine as ContainerEngine;
  const tag = `localhost/okta-forwarder:${uniqueName('it')}`;
  const container = uniqueName('okta-forwarder-it');
  const token = uniqueName('token');
  const prefix = uniqueName('it-image');
  const es = elasticsearchEndpoint();
  let sim: SimulatorHandle;
  let runFlags: string[];
  let metricsPort: number;
  let dir: string | undefined;

  beforeAll(async () => {
    const podman = used.name === 'podman';
    await engine(used, [
        'build',
        '--network=host',
        ...used.runFlags,
        // Podman keeps a HEALTHCHECK only in Docker's image format, and does not look for docker/Dockerfile.dockerignore by itself.
        ...(podman ? ['--format', 'docker', '--ignorefile', join(PROJECT_ROOT, 'docker', 'Dockerfile.dockerignore')] : []),
        '--build-arg',
        `NODE_IMAGE=${BASE_IMAGE}`,
        '-f',
        join(PROJECT_ROOT, 'docker', 'Dockerfile'),
        '-t',
        tag,
        PROJECT_ROOT,
    ]);
    sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity });
    sim.generate(1_000, { from: Date.now() - 86_400_000, to: Date.now() - 1000 });
    // Mounted read-only, as compose's secrets and configs are: files the image's user can read.
    dir = mkdtempSync(join(tmpdir(), 'okta-forwarder-image-'));
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'okta-api-token'), `${token}\n`);
    writeFileSync(join(dir, 'secrets', 'elasticsearch-password'), `${es.password}\n`);
    const configuration = imageConfiguration({
      oktaDomain: sim.domain,
      tokenFile: '/run/secrets/okta-api-token',
      passwordFile: '/run/secrets/elasticsearch-password',
      indexPrefix: prefix,
      metricsHost: '127.0.0.1',
    });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(configuration));
    for (const file of ['config.json', 'secrets/okta-api-token', 'secrets/elasticsearch-password']) chmodSync(join(dir, file), 0o444);
    chmodSync(dir, 0o755);
    metricsPort = await freePort();
    runFlags = [
      '--network=host',
      '--read-only',
      // Podman mounts writable tmpfs folders on a read-only root unless told not to; Docker does not.
      ...(podman ? ['--read-only-tmpfs=false'] : []),
      '--cap-drop=ALL',
      '--security-opt=no-new-privileges',
      ...used.runFlags,
      '-v',
      `${join(dir, 'config.json')}:/etc/okta-forwarder/config.json:ro`,
      '-v',
      `${join(dir, 'secrets')}:/run/secrets:ro`,
      '-e',
      `METRICS_PORT=${metricsPort}`,
    ];
  }, 960_000);

  afterAll(async () => {
    await engineStatus(used, ['rm', '-f', container]);
    await engineStatus(used, ['rmi', '-f', tag]);
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs as uid 1000 and writes nowhere: the root filesystem is read-only and nothing needs more', async () => {
    const script = "const fs = require('node:fs'); for (const d of ['/tmp', '/app', '/']) { try { fs.writeFileSync(d + '/probe', 'x'); console.log('WROTE ' + d); } catch (e) { console.log(e.code + ' ' + d); } } console.log(process.getuid() + ':' + process.getgid());";
    const output = await engine(used, ['run', '--rm', ...runFlags, '--entrypoint', 'node', tag, '-e', script]);
    expect(output.trim().split('\n')).toEqual(['EROFS /tmp', 'EROFS /app', 'EROFS /', '1000:1000']);
  });

  it('passes `check` against the stack', async () => {
    const output = await engine(used, ['run', '--rm', ...runFlags, tag, 'check']);
    expect(output).toMatch(/(\d+) of \1 checks passed/);
  });

  it('runs `run` by default: polls and indexes every event, is healthy by its HEALTHCHECK, and exits 0 when stopped', { timeout: 240_000 }, async () => {
    const client = testIndexClient(prefix);
    await engine(used, ['run', '-d', '--name', container, ...runFlags, tag]);
    // What the container printed, kept up to date for the timeout messages.
    let logs = '';
    const readLogs = async () => {
      const { stdout, stderr } = await engineStatus(used, ['logs', container]);
      logs = `${stdout}${stderr}`.slice(-3000);
    };
    const health = await waitFor(async () => (await readLogs(), await fetch(`http://127.0.0.1:${metricsPort}/healthz`).catch(() => undefined)), () => `/healthz; logs: ${logs}`, 60_000, 500);
    expect(health.status).toBe(200);
    if (used.name === 'podman') {
      // As the engine judges health: a check may time out on a busy host, the next ones count (--retries).
      let said = '';
      const passes = async () => {
        const { code, stdout, stderr } = await engineStatus(used, ['healthcheck', 'run', container]);
        said = `${stdout}${stderr}`;
        return code === 0;
      };
      await waitFor(passes, () => `a passing HEALTHCHECK (last: ${said})`, 90_000, 1000);
    } else {
      const healthy = async () => (await engine(used, ['inspect', '--format', '{{.State.Health.Status}}', container])).trim() === 'healthy';
      await waitFor(healthy, 'a healthy status', 90_000, 1000);
    }
    await waitFor(async () => (await readLogs(), (await documentCount(client, prefix)) === 1_000), () => `all 1,000 documents; logs: ${logs}`, 150_000, 1000);
    await engine(used, ['stop', '-t', '60', container]);
    await readLogs();
    expect((await engine(used, ['inspect', '--format', '{{.State.ExitCode}}', container])).trim(), logs).toBe('0');
  });
});
