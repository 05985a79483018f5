import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Histogram, type MetricObject } from 'prom-client';
import { createMetrics } from '../../src/metrics/registry.js';
import { CONNECTOR_STATES } from '../../src/poller/state.js';
import { PROMETHEUS_RULE_FILES } from '../../src/stack/local.js';
import { PROJECT_ROOT } from '../support/cli.js';
import {
  ALERTS_TEST_FILE,
  alertRules,
  dashboardQueries,
  dashboards,
  dataPanels,
  GRAFANA_DIR,
  PROMETHEUS_DIR,
  readYaml,
  withVariables,
} from '../support/monitoring.js';
import { selectors, type Selector } from '../support/promql.js';

/** What a series of each name carries: its labels, and the values of the labels with a fixed list. */
interface SeriesShape {
  labels: Set<string>;
  values: Map<string, Set<string>>;
}

/**
 * The series the forwarder exports, from createMetrics: every metric with its labels plus `job`
 * and `instance` (added by the scrape), histograms as their _bucket (with `le`), _sum and _count.
 * A label's values are known where the metric's help lists them ("by outcome (ok, …)"), and for
 * the connector state. Beside them, Prometheus's own `up` and `ALERTS`.
 */
function exportedSeries(): Map<string, SeriesShape> {
  const series = new Map<string, SeriesShape>();
  const scrape = ['job', 'instance'];
  for (const metric of createMetrics().registry.getMetricsAsArray() as (MetricObject & { labelNames?: readonly string[] })[]) {
    const labels = [...scrape, ...(metric.labelNames ?? [])];
    const values = new Map<string, Set<string>>();
    for (const [, label, list] of metric.help.matchAll(/by (\w+) \(([^)]+)\)/g)) values.set(label as string, new Set((list as string).split(/,\s*/)));
    if (metric.name === 'okta_forwarder_connector_state') values.set('state', new Set(CONNECTOR_STATES));
    if (metric instanceof Histogram) {
      series.set(`${metric.name}_bucket`, { labels: new Set([...labels, 'le']), values });
      series.set(`${metric.name}_sum`, { labels: new Set(labels), values });
      series.set(`${metric.name}_count`, { labels: new Set(labels), values });
    } else {
      series.set(metric.name, { labels: new Set(labels), values });
    }
  }
  series.set('up', { labels: new Set(scrape), values: new Map() });
  series.set('ALERTS', { labels: new Set([...scrape, 'alertname', 'alertstate', 'severity']), values: new Map([['alertstate', new Set(['pending', 'firing'])]]) });
  return series;
}

const EXPORTED = exportedSeries();

/** What is wrong with a selector: a metric the forwarder does not export, a label it lacks, a value it never has. */
function problems(selector: Selector): string[] {
  const shape = EXPORTED.get(selector.metric);
  if (!shape) return [`${selector.metric} is not a metric of src/metrics/registry.ts`];
  return selector.matchers.flatMap(({ label, op, value }) => {
    if (!shape.labels.has(label)) return [`${selector.metric} has no label ${label}`];
    const known = shape.values.get(label);
    if (!known || !(op === '=' || (op === '=~' && /^[\w|]+$/.test(value)))) return [];
    return value
      .split('|')
      .filter((one) => !known.has(one))
      .map((one) => `${selector.metric}{${label}} is never "${one}" (it is one of ${[...known].join(', ')})`);
  });
}

describe('the PromQL reader of these tests', () => {
  it('finds the metrics and matchers of an expression, not its functions, keywords, label lists and strings', () => {
    const found = selectors(
      'sum by (job, org) (increase(a_total{org=~"x|y", outcome="ok"}[15m])) / on (job) group_left () b unless c offset 5m ' +
        'or histogram_quantile(0.9, rate(d_bucket{le!=""}[5m:1m])) > bool 1 and label_replace(e, "f", "$1", "g", "(.*)")',
    );
    expect(found).toEqual([
      {
        metric: 'a_total',
        matchers: [
          { label: 'org', op: '=~', value: 'x|y' },
          { label: 'outcome', op: '=', value: 'ok' },
        ],
      },
      { metric: 'b', matchers: [] },
      { metric: 'c', matchers: [] },
      { metric: 'd_bucket', matchers: [{ label: 'le', op: '!=', value: '' }] },
      { metric: 'e', matchers: [] },
    ]);
  });
});

describe('alert rules (docker/prometheus/alerts.yml)', () => {
  const rules = alertRules();

  it('give every alert a severity, a summary and a description that says what to do', () => {
    expect(rules.length).toBeGreaterThanOrEqual(15);
    for (const rule of rules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary?.length ?? 0, `${rule.alert} summary`).toBeGreaterThan(10);
      expect(rule.annotations?.description?.length ?? 0, `${rule.alert} description`).toBeGreaterThan(120);
      expect(rule.alert).toMatch(/^OktaForwarder[A-Z]\w+$/);
    }
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
  });

  it('use only metrics the forwarder exports, with their real labels and label values', () => {
    const used = rules.flatMap((rule) => selectors(rule.expr).map((selector) => ({ rule: rule.alert, selector })));
    expect(used.length).toBeGreaterThan(rules.length);
    const wrong = used.flatMap(({ rule, selector }) => problems(selector).map((problem) => `${rule}: ${problem}`));
    expect(wrong).toEqual([]);
  });

  it('have promtool unit tests in which each alert fires and, elsewhere, must not fire', () => {
    interface UnitTests {
      rule_files: string[];
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    }
    const unitTests = readYaml<UnitTests>(ALERTS_TEST_FILE);
    expect(unitTests.rule_files).toEqual(['alerts.yml']);
    const cases = unitTests.tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const rule of rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${rule.alert} fires in a test`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${rule.alert} stays silent in a test`).toBe(true);
    }
    expect(cases.every((c) => rules.some((rule) => rule.alert === c.alertname))).toBe(true);
  });

  it('are loaded by docker/prometheus/prometheus.yml, and the local stack copies them beside it', () => {
    const config = readYaml<{ rule_files?: string[] }>(join(PROMETHEUS_DIR, 'prometheus.yml'));
    expect(config.rule_files).toEqual([...PROMETHEUS_RULE_FILES]);
  });

  it('are each listed in the operators\' guide (docs/operating.md) with what to do', () => {
    const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'operating.md'), 'utf8');
    expect(rules.map((rule) => rule.alert).filter((alert) => !guide.includes(`| \`${alert}\` |`))).toEqual([]);
  });
});

describe('Grafana dashboards (docker/grafana/dashboards)', () => {
  const all = dashboards();

  it('include the okta-forwarder overview', () => {
    expect(all.map(({ dashboard }) => dashboard.uid)).toContain('okta-forwarder-overview');
    expect(new Set(all.map(({ dashboard }) => dashboard.uid)).size).toBe(all.length);
  });

  for (const { file, dashboard } of all) {
    describe(file, () => {
      it('chooses its Prometheus through a datasource variable and filters by org with label_values', () => {
        expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
        const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));
        expect(variables.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
        expect(variables.get('org')).toMatchObject({ type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' } });
        expect(String(variables.get('org')?.query)).toMatch(/^label_values\(.+, org\)$/);
      });

      it('gives every panel a title, the datasource variable and targets with an expression, inside the 24 columns', () => {
        const panels = dataPanels(dashboard);
        expect(panels.length).toBeGreaterThan(10);
        for (const panel of panels) {
          const name = `panel ${panel.id} (${panel.title ?? 'untitled'})`;
          expect(panel.title?.trim(), name).toBeTruthy();
          expect(panel.datasource, name).toEqual({ type: 'prometheus', uid: '${datasource}' });
          expect(panel.targets?.length, name).toBeGreaterThan(0);
          for (const target of panel.targets ?? []) {
            expect(target.expr?.trim(), `${name} ${target.refId}`).toBeTruthy();
            expect(target.datasource ?? panel.datasource, `${name} ${target.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
          }
          expect(panel.gridPos.x + panel.gridPos.w, name).toBeLessThanOrEqual(24);
        }
        expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
      });

      it('use only metrics the forwarder exports, with their real labels and label values', () => {
        const wrong = dashboardQueries(dashboard).flatMap(({ where, expr }) => selectors(withVariables(expr)).flatMap((selector) => problems(selector).map((problem) => `${where}: ${problem}`)));
        expect(wrong).toEqual([]);
      });
    });
  }

  it('show every metric of the forwarder (besides the process metrics) somewhere', () => {
    const shown = new Set(all.flatMap(({ dashboard }) => dashboardQueries(dashboard).flatMap(({ expr }) => selectors(withVariables(expr)).map((selector) => selector.metric))));
    const base = (name: string) => name.replace(/_(bucket|sum|count)$/, '');
    const missing = [...EXPORTED.keys()].filter((name) => name.startsWith('okta_forwarder_') && !name.startsWith('okta_forwarder_process_')).filter((name) => ![...shown].some((metric) => base(metric) === base(name)));
    expect(missing).toEqual([]);
  });

  it('are provisioned from docker/grafana/provisioning: the Prometheus data source and a file provider', () => {
    const datasources = readYaml<{ apiVersion: number; datasources: { type: string; url: string }[] }>(join(GRAFANA_DIR, 'provisioning', 'datasources', 'prometheus.yml'));
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: '${PROMETHEUS_URL}' })]);
    const providers = readYaml<{ apiVersion: number; providers: { type: string; options: { path: string } }[] }>(join(GRAFANA_DIR, 'provisioning', 'dashboards', 'okta-forwarder.yml'));
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: '${OKTA_FORWARDER_DASHBOARDS}' }) })]);
  });
});
