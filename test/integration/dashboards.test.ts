import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { dashboardQueries, dashboards, variableQueries, withVariables } from '../support/monitoring.js';
import { prometheusEndpoint } from '../support/stack.js';

interface ApiResponse {
  status: string;
  error?: string;
}

/** Asks the real Prometheus; its answer says whether it could parse and run the query. */
async function ask(path: string, form?: Record<string, string>): Promise<ApiResponse & { statusCode: number }> {
  const response = await request(new URL(path, prometheusEndpoint().url), {
    method: form ? 'POST' : 'GET',
    ...(form ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() } : {}),
  });
  return { statusCode: response.statusCode, ...((await response.body.json()) as ApiResponse) };
}

describe('Grafana dashboards (docker/grafana/dashboards) against the real Prometheus', () => {
  for (const { file, dashboard } of dashboards()) {
    it(`${file}: every panel query is PromQL that Prometheus runs`, async () => {
      const queries = dashboardQueries(dashboard);
      expect(queries.length).toBeGreaterThan(10);
      const failures: string[] = [];
      for (const { where, expr } of queries) {
        const answer = await ask('/api/v1/query', { query: withVariables(expr) });
        if (answer.statusCode !== 200 || answer.status !== 'success') failures.push(`${where}: ${answer.error ?? answer.statusCode}\n  ${withVariables(expr)}`);
      }
      expect(failures).toEqual([]);
    });

    it(`${file}: every variable's label_values query is a selector Prometheus accepts`, async () => {
      for (const { name, selector, label } of variableQueries(dashboard)) {
        const answer = await ask(`/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': withVariables(selector) }).toString()}`);
        expect(answer, `variable ${name}: ${answer.error ?? ''}`).toMatchObject({ statusCode: 200, status: 'success' });
      }
    });
  }
});
