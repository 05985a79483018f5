import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { PROJECT_ROOT, spawnCli } from '../support/cli.js';
import { freePort } from '../support/net.js';
import { metricValue, scrapeMetrics } from '../support/scrape.js';
import { writeTestConfig } from '../support/forwarder.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName, waitFor } from '../support/wait.js';


describe('okta-forwarder run', () => {
  let sim: SimulatorHandle | undefined;
  afterEach(async () => sim?.close());

  it('polls and indexes in one process, is ready while it works, and exits 0 on SIGTERM', { timeout: 180_000 }, async () => {
    const token = uniqueName('token');
    sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity });
    sim.generate(2_000, { from: Date.now() - 2 * 86_400_000, to: Date.now() - 1000 });
    const es = elasticsearchEndpoint();
    const prefix = uniqueName('it-run');
    const metricsPort = await freePort();
    const { file } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }], {
      metricsPort,
      elasticsearch: { nodes: [es.url], auth: { username: es.username }, indexPrefix: prefix },
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--config', file], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ELASTICSEARCH_PASSWORD: es.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const client = new Client({ node: es.url, auth: { username: es.username, password: es.password } });
    try {
      await waitFor(async () => {
        await client.indices.refresh({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true });
        return (await client.count({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true })).count === 2_000;
      }, 'all 2,000 documents', 120_000).catch((err: Error) => {
        throw new Error(`${err.message}; output: ${output.slice(-3000)}`);
      });
      const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
      const body = (await ready.json()) as { ready: boolean; connectors: Record<string, string>; sink: { indexed: number } };
      expect(ready.status).toBe(200);
      expect(body.connectors).toEqual({ acme: 'connected' });
      expect(body.sink.indexed).toBe(2_000);
      child.kill('SIGTERM');
      expect(await exited, output.slice(-2000)).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await client.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
      await client.close();
    }
  });

  it('logs no error line in a healthy run within the org\'s rate limit, restarted, and waits for its budget at debug with the state and a metric to show it', { timeout: 240_000 }, async () => {
    const token = uniqueName('token');
    // 4 requests per 2-second window, one of them the forwarder's: it waits for its budget all the time.
    sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: 4, rateLimitWindowSeconds: 2 });
    sim.generate(3_000, { from: Date.now() - 2 * 86_400_000, to: Date.now() - 1000 });
    const es = elasticsearchEndpoint();
    const prefix = uniqueName('it-healthy');
    const metricsPort = await freePort();
    const { file } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }], {
      metricsPort,
      org: { rateLimitShare: 0.25 },
      elasticsearch: { nodes: [es.url], auth: { username: es.username }, indexPrefix: prefix },
    });
    // A consumer group of its own: no rebalance with other tests' sinks.
    const settings = JSON.parse(readFileSync(file, 'utf8')) as { kafka: Record<string, unknown> };
    settings.kafka.consumerGroup = uniqueName('it-healthy-sink');
    writeFileSync(file, JSON.stringify(settings));
    const env = { ELASTICSEARCH_PASSWORD: es.password };
    const client = new Client({ node: es.url, auth: { username: es.username, password: es.password } });
    const indexed = async (count: number, output: () => string) =>
      waitFor(async () => {
        await client.indices.refresh({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true });
        return (await client.count({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true })).count === count;
      }, `all ${count} documents`, 120_000).catch((err: Error) => {
        throw new Error(`${err.message}; output: ${output().slice(-3000)}`);
      });
    const outputs: string[] = [];
    try {
      for (const [round, total] of [[1, 3_000], [2, 3_500]] as const) {
        if (round === 2) sim.generate(500, { from: Date.now() - 60_000, to: Date.now() - 1000 });
        const run = spawnCli(['run', '--config', file], env);
        await indexed(total, run.output);
        // Tailing within its share: a few more windows of polling.
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        const metrics = await scrapeMetrics(metricsPort);
        expect(metricValue(metrics, 'okta_forwarder_okta_rate_limit_wait_seconds_total', { org: 'acme' }), 'the run waited for its budget').toBeGreaterThan(0);
        expect(metricValue(metrics, 'okta_forwarder_okta_requests_total', { org: 'acme', outcome: 'rate_limited' })).toBe(0);
        run.child.kill('SIGTERM');
        expect(await run.exited, run.output().slice(-2000)).toBe(0);
        outputs.push(run.output());
      }
      const lines = outputs
        .join('\n')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: string; msg: string; state?: string });
      expect(lines.length).toBeGreaterThan(10);
      expect(lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
      // Waiting for its own share is the rate limit working: no warning for it, ever.
      expect(lines.filter((line) => line.level === 'warn' && (line.state === 'rate_limited' || /rate limit|budget/i.test(line.msg)))).toEqual([]);
    } finally {
      await client.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
      await client.close();
    }
  });
});
