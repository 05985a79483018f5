/** What a process's listener (/metrics, /readyz) shows a test, as Prometheus and a load balancer see it. */

/** The /metrics text of the process listening on 127.0.0.1:port. */
export async function scrapeMetrics(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET /metrics on port ${port} answered ${response.status}`);
  return response.text();
}

/**
 * The sum of the samples of `name` whose labels include `labels` (0 when there is none), read
 * from Prometheus text: `name{a="x",b="y"} 12`.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[^{\s]+(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const sample = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => sample[key] === value)) sum += Number(match[2]);
  }
  return sum;
}

export interface Readyz {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

/** GET /readyz of the process listening on 127.0.0.1:port: its status and body. */
export async function readyz(port: number): Promise<Readyz> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON: the text says what it is */
  }
  return { status: response.status, body, text };
}
