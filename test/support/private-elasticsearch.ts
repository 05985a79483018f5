import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElasticsearchEndpoint } from '../../src/stack/endpoints.js';
import { setElasticsearchFileUser } from '../../src/stack/local.js';
import { stackSettings, type StackSettings } from '../../src/stack/settings.js';
import { down, up } from '../../src/stack/stack.js';
import { freePorts } from './net.js';

/**
 * An Elasticsearch of a test's own, launched like the local stack's (src/stack: the same
 * integ-test zip, security on, as `nobody` when root) but on free ports, in a folder of its own,
 * with the node settings the test needs (a tiny write queue, a small request limit). A test may
 * stop and start it (an outage) without touching the shared stack that other tests use.
 */
export interface PrivateElasticsearch {
  readonly endpoint: ElasticsearchEndpoint;
  /** Stops the node; its data stays, so `start` brings the same indices back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the node and deletes its folder. */
  remove(): Promise<void>;
  /** Adds a superuser of the file realm, or changes its password; the node applies it within seconds. */
  setUser(name: string, password: string): void;
}

export async function startPrivateElasticsearch(options: { settings?: Record<string, string | number>; heap?: string } = {}): Promise<PrivateElasticsearch> {
  const stateDir = mkdtempSync(join(tmpdir(), 'okta-forwarder-es-'));
  // Elasticsearch runs as `nobody` when the tests run as root: its folder must be reachable.
  chmodSync(stateDir, 0o755);
  const [httpPort, transportPort] = (await freePorts(2)) as [number, number];
  const settings: StackSettings = {
    ...stackSettings({ OKTA_FORWARDER_STACK_DIR: stateDir, OKTA_FORWARDER_CACHE_DIR: stackSettings().cacheDir }),
    elasticsearchPort: httpPort,
    elasticsearchTransportPort: transportPort,
    elasticsearchHeap: options.heap ?? '256m',
    elasticsearchSettings: options.settings ?? {},
  };
  const report = (line: string) => process.stderr.write(`[private elasticsearch] ${line}\n`);
  // The local provider, whatever the environment names: this node is the test's, not the stack's.
  const start = async () => {
    const { endpoints } = await up(settings, ['elasticsearch'], report, { OKTA_FORWARDER_STACK_PROVIDER: 'local' });
    return endpoints.elasticsearch as ElasticsearchEndpoint;
  };
  const endpoint = await start();
  const stop = () => down(settings, ['elasticsearch'], report);
  return {
    endpoint,
    stop,
    start: async () => void (await start()),
    setUser: (name, password) => setElasticsearchFileUser(settings, { name, password, role: 'superuser' }),
    remove: async () => {
      await stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
