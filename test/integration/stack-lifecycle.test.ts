import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, portInUse } from '../../src/stack/processes.js';
import { runCli } from '../support/cli.js';
import { freePorts } from '../support/net.js';
import { hasJvmTools } from '../support/own-kafka.js';

describe.skipIf(!hasJvmTools)('npm run stack (local JVM provider)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'okta-forwarder-stack-'));
  let env: NodeJS.ProcessEnv = {};
  const stack = (...args: string[]) => runCli(args, env, 'src/stack/main.ts');

  afterAll(async () => {
    await stack('down', '--purge');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts every service once, reuses them on a second up, and leaves no process or port behind on down', async () => {
    const [kafka, controller, es, esTransport, prometheus] = await freePorts(5);
    env = {
      OKTA_FORWARDER_STACK_DIR: stateDir,
      OKTA_FORWARDER_STACK_PROVIDER: 'local',
      STACK_KAFKA_PORT: String(kafka),
      STACK_KAFKA_CONTROLLER_PORT: String(controller),
      STACK_ELASTICSEARCH_PORT: String(es),
      STACK_ELASTICSEARCH_TRANSPORT_PORT: String(esTransport),
      STACK_PROMETHEUS_PORT: String(prometheus),
      ...(process.env.OKTA_FORWARDER_CACHE_DIR ? { OKTA_FORWARDER_CACHE_DIR: process.env.OKTA_FORWARDER_CACHE_DIR } : {}),
      ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
    };

    const first = await stack('up');
    expect(first.stderr).toMatch(/kafka: ready at/);
    expect(first.code, first.stderr).toBe(0);
    const status = await stack('status');
    expect(status.code, status.stdout).toBe(0);
    const pids = [...status.stdout.matchAll(/pid (\d+)/g)].map((match) => Number(match[1]));
    expect(pids).toHaveLength(3);
    expect(status.stdout).toContain(`127.0.0.1:${kafka}`);
    expect(status.stdout).toContain(`http://127.0.0.1:${es}`);

    const second = await stack('up');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr.match(/already running/g)).toHaveLength(3);
    const again = await stack('status');
    expect([...again.stdout.matchAll(/pid (\d+)/g)].map((match) => Number(match[1]))).toEqual(pids);

    const down = await stack('down');
    expect(down.code, down.stderr).toBe(0);
    for (const pid of pids) expect(isAlive(pid), `process ${pid}`).toBe(false);
    for (const port of [kafka, controller, es, esTransport, prometheus]) expect(await portInUse(port!), `port ${port}`).toBe(false);
    const after = await stack('status');
    expect(after.code).toBe(1);
    expect(after.stdout.match(/stopped/g)?.length).toBeGreaterThanOrEqual(3);
  });
});
