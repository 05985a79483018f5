import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { scrubSecrets } from '../logging/secrets.js';

export interface Readiness {
  /** True when every connector can do its job (or is waiting on Okta's rate limit). */
  ready: boolean;
  detail: Record<string, unknown>;
}

/**
 * The HTTP listener every process has: /metrics for Prometheus, /healthz (the process answers),
 * /readyz (it is doing its job: 503 with the connector states when not). What it serves is
 * scrubbed like any other output: a label value or a readiness detail may quote an error.
 * With `status`, also /status: the process's own view of its orgs and sink as JSON.
 */
export async function startMetricsServer(options: { host: string; port: number; registry: Registry; readiness: () => Readiness; status?: () => unknown }): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(scrubSecrets(text)),
        (err: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(scrubSecrets(`collecting metrics failed: ${(err as Error).message}\n`)),
      );
    } else if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
    } else if (path === '/readyz') {
      const { ready, detail } = options.readiness();
      response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(scrubSecrets(`${JSON.stringify({ ready, ...detail })}\n`));
    } else if (path === '/status' && options.status) {
      // Always 200: what the process knows of itself. Gates use /readyz, or `status`'s exit code.
      response.writeHead(200, { 'content-type': 'application/json' }).end(scrubSecrets(`${JSON.stringify(options.status())}\n`));
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try /metrics, /healthz, /readyz${options.status ? ' or /status' : ''}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
