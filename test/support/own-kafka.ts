import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onTestFinished } from 'vitest';
import { logFile, pidFile } from '../../src/stack/local.js';
import { isAlive, logTail, portInUse, readPid } from '../../src/stack/processes.js';
import { stackSettings, type StackSettings } from '../../src/stack/settings.js';
import { down, up } from '../../src/stack/stack.js';
import { freePorts } from './net.js';

/** Whether this machine can run the stack's local JVM services (a Kafka broker of a test's own). */
export const hasJvmTools = ['java', 'mvn'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);

/** A single-node KRaft broker of one test, beside the shared stack: its own ports and state folder. */
export interface OwnKafka {
  brokers: string[];
  /** Stops the broker: SIGTERM (a controlled shutdown) or SIGKILL (a crash); resolves once its ports are free. */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it answers a metadata request. */
  start(): Promise<void>;
  /** The last lines of the broker's own log. */
  logTail(lines?: number): string;
}

/**
 * Starts a Kafka broker of the test's own with the stack's local provider (src/stack), on free
 * ports and in a temporary state folder, so it can be stopped and restarted without touching the
 * shared stack's broker. Stopped and deleted when the test ends.
 */
export async function startOwnKafka(): Promise<OwnKafka> {
  const stateDir = mkdtempSync(join(tmpdir(), 'okta-forwarder-own-kafka-'));
  const [port, controllerPort] = await freePorts(2);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OKTA_FORWARDER_STACK_DIR: stateDir,
    OKTA_FORWARDER_STACK_PROVIDER: 'local',
    STACK_KAFKA_PORT: String(port),
    STACK_KAFKA_CONTROLLER_PORT: String(controllerPort),
    ...(process.env.OKTA_FORWARDER_CACHE_DIR ? { OKTA_FORWARDER_CACHE_DIR: process.env.OKTA_FORWARDER_CACHE_DIR } : {}),
    ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
  };
  const settings: StackSettings = stackSettings(env);
  const report = (line: string) => process.stderr.write(`[own kafka] ${line}\n`);
  const ports = [port as number, controllerPort as number];
  onTestFinished(async () => {
    await down(settings, ['kafka'], report);
    rmSync(stateDir, { recursive: true, force: true });
  });
  const start = async () => {
    await up(settings, ['kafka'], report, env);
  };
  await start();
  return {
    brokers: [`127.0.0.1:${port}`],
    start,
    async stop(signal) {
      if (signal === 'SIGTERM') return down(settings, ['kafka'], report);
      const pid = readPid(pidFile(settings, 'kafka'));
      if (pid !== undefined) process.kill(-pid, 'SIGKILL');
      while ((pid !== undefined && isAlive(pid)) || (await Promise.all(ports.map((p) => portInUse(p)))).some(Boolean)) await sleep(100);
      report('kafka: killed');
    },
    logTail: (lines = 40) => logTail(logFile(settings, 'kafka'), lines),
  };
}
