import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { prometheusEndpoint } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

interface QueryResponse {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

interface TargetsResponse {
  data: { activeTargets: { labels: Record<string, string>; scrapePool: string }[] };
}

async function getJson<T>(path: string): Promise<T> {
  const response = await request(new URL(path, prometheusEndpoint().url));
  expect(response.statusCode).toBe(200);
  return (await response.body.json()) as T;
}

describe('Prometheus (real server)', () => {
  it('answers a PromQL query through its HTTP API with what it scraped', async () => {
    // Prometheus scrapes itself; the first scrape lands within one scrape interval of start.
    const result = await waitFor(async () => {
      const body = await getJson<QueryResponse>('/api/v1/query?query=up%7Bjob%3D%22prometheus%22%7D');
      return body.data.result.length > 0 ? body : undefined;
    }, 'the first self-scrape', 60_000);
    expect(result.status).toBe('success');
    expect(result.data.resultType).toBe('vector');
    expect(result.data.result[0]?.value[1]).toBe('1');
  });

  it('has the okta-forwarder scrape job of docker/prometheus/prometheus.yml', async () => {
    const targets = await getJson<TargetsResponse>('/api/v1/targets');
    expect(targets.data.activeTargets.map((target) => target.scrapePool)).toContain('okta-forwarder');
  });
});
