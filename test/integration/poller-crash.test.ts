import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { freePort } from '../support/net.js';
import { duplicates, readCheckpointHistory, readPublishedEvents, writeTestConfig } from '../support/forwarder.js';
import { uniqueName, waitFor } from '../support/wait.js';

const DAY = 86_400_000;

const EVENTS = 100_000;

/** `okta-forwarder poll` as a user runs it, with its stdout collected. */
function startPoll(configFile: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'poll', '--config', configFile], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('the poll command killed with SIGKILL', () => {
  let sim: SimulatorHandle | undefined;
  let running: ReturnType<typeof startPoll> | undefined;
  afterEach(async () => {
    running?.child.kill('SIGKILL');
    await sim?.close();
  });

  it('ends with every uuid exactly once and no gap after 10 kills at random moments', async () => {
    const token = uniqueName('token');
    sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: Infinity, seed: 11 });
    sim.generate(EVENTS, { from: Date.now() - 50 * DAY, to: Date.now() - 60_000 });
    // Slow pages stretch the run over the kills.
    sim.injectFaults('slow', 1_000_000, { delayMs: 60 });
    const metricsPort = await freePort();
    const { config, file } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }], { metricsPort });

    const kills: number[] = [];
    for (let kill = 0; kill < 10; kill += 1) {
      running = startPoll(file);
      const current = running;
      // Kill while it works: after it has started polling, at a random moment.
      await waitFor(() => /"msg":"poller (starting a backfill|resuming)/.test(current.output()), 'the poller to start', 60_000);
      const delay = 200 + Math.floor(Math.random() * 1500);
      kills.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      current.child.kill('SIGKILL');
      expect(await current.exited, `run ${kill + 1} (${kills.join(', ')} ms)`).toBeNull();
    }

    running = startPoll(file);
    const last = running;
    await waitFor(() => /backfill complete: caught up/.test(last.output()), 'the last run to catch up', 180_000);

    // What Prometheus and a load balancer see of the running poller.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/okta_forwarder_connector_state\{org="acme",state="connected"\} 1/);
    expect(metrics).toMatch(/okta_forwarder_backfill_progress_ratio\{org="acme"\} 1/);
    expect(metrics).toMatch(/okta_forwarder_poll_lag_seconds\{org="acme"\} \d/);
    expect(metrics).toMatch(/okta_forwarder_kafka_transactions_total\{org="acme",result="committed"\} \d+/);
    const ready = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, connectors: { acme: 'connected' } });
    last.child.kill('SIGTERM');
    expect(await last.exited, last.output().slice(-2000)).toBe(0);

    const kafka = createKafka(config.kafka);
    const published = await readPublishedEvents(kafka, config);
    expect(duplicates(published.map((p) => p.uuid)), `kills at ${kills.join(', ')} ms`).toEqual([]);
    expect(published).toHaveLength(EVENTS);
    const checkpoints = await readCheckpointHistory(kafka, config);
    // Each run continued where the last committed one stopped: the count never went back.
    const counts = checkpoints.map((c) => c.events);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(EVENTS);
  });
});
