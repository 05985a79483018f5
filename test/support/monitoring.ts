import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './cli.js';

/** The monitoring files the project ships in docker/: Prometheus rules and Grafana dashboards. */
export const PROMETHEUS_DIR = join(PROJECT_ROOT, 'docker', 'prometheus');
export const GRAFANA_DIR = join(PROJECT_ROOT, 'docker', 'grafana');
export const ALERTS_FILE = join(PROMETHEUS_DIR, 'alerts.yml');
export const ALERTS_TEST_FILE = join(PROMETHEUS_DIR, 'alerts.test.yml');

export function readYaml<T>(path: string): T {
  return parse(readFileSync(path, 'utf8')) as T;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const file = readYaml<{ groups: { name: string; rules: AlertRule[] }[] }>(ALERTS_FILE);
  return file.groups.flatMap((group) => group.rules);
}

export interface Target {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}

export interface Panel {
  id: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  /** The panels of a collapsed row. */
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  datasource?: { type?: string; uid?: string };
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

export function dashboards(): { file: string; dashboard: Dashboard }[] {
  const dir = join(GRAFANA_DIR, 'dashboards');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ file: name, dashboard: JSON.parse(readFileSync(join(dir, name), 'utf8')) as Dashboard }));
}

/** The panels that show data: rows are containers, their panels count. */
export function dataPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => (panel.type === 'row' ? (panel.panels ?? []) : [panel]));
}

/** Every PromQL expression of a dashboard, where it is, as Grafana writes it (with its variables). */
export function dashboardQueries(dashboard: Dashboard): { where: string; expr: string }[] {
  const targets = dataPanels(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr })));
  const variables = variableQueries(dashboard).map(({ name, selector }) => ({ where: `variable ${name}`, expr: selector }));
  return [...targets, ...variables];
}

/** The query variables of a dashboard that are `label_values(selector, label)`. */
export function variableQueries(dashboard: Dashboard): { name: string; selector: string; label: string }[] {
  return dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim());
      if (!match) throw new Error(`variable ${variable.name}: ${JSON.stringify(query)} is not label_values(selector, label)`);
      return { name: variable.name, selector: match[1] as string, label: match[2] as string };
    });
}

/**
 * An expression as Prometheus would receive it from Grafana: interval variables become `1m`,
 * every other variable (`$org`, `${job}`) the regex `.*`, as "All" does.
 */
export function withVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '1m').replace(/\$\{?\w+\}?/g, '.*');
}
