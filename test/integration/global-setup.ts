import type { TestProject } from 'vitest/node';
import { SERVICES, stackSettings } from '../../src/stack/settings.js';
import { down, up } from '../../src/stack/stack.js';

/**
 * Starts the stack once per run, or reuses it: endpoints from the environment (KAFKA_BROKERS,
 * ELASTICSEARCH_URL, PROMETHEUS_URL), else containers when Docker answers, else the local JVM
 * processes (see src/stack). Tests receive the endpoints through inject('stack'). At the end it
 * stops only what it started, unless OKTA_FORWARDER_KEEP_STACK=1 keeps it for the next run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const settings = stackSettings();
  const report = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  const { endpoints, started } = await up(settings, SERVICES, report);
  project.provide('stack', endpoints);
  return async () => {
    if (process.env.OKTA_FORWARDER_KEEP_STACK === '1' || started.length === 0) return;
    await down(settings, started, report);
  };
}
