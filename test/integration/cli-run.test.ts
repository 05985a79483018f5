import { spawn } from 'node:child_process';
import { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { freePort } from '../support/net.js';
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
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
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
});
