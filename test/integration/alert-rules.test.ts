import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prometheusFiles } from '../../src/stack/local.js';
import { requirePromtool } from '../../src/stack/prerequisites.js';
import { stackSettings } from '../../src/stack/settings.js';
import { ALERTS_FILE, ALERTS_TEST_FILE, alertRules } from '../support/monitoring.js';
import { tempDir } from '../support/temp.js';

/** Runs promtool, found (or installed, as root) as the stack finds Prometheus: it comes in the same package. */
function promtool(...args: string[]): { code: number | null; output: string } {
  const binary = requirePromtool((line) => process.stderr.write(`[promtool] ${line}\n`));
  const result = spawnSync(binary, args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('alert rules (docker/prometheus/alerts.yml) under promtool', () => {
  const rules = alertRules().length;

  it('are valid rules', () => {
    const { code, output } = promtool('check', 'rules', ALERTS_FILE);
    expect(output).toContain(`SUCCESS: ${rules} rules found`);
    expect(code, output).toBe(0);
  });

  it('fire, and stay silent, as alerts.test.yml expects for every alert', () => {
    const { code, output } = promtool('test', 'rules', ALERTS_TEST_FILE);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('are loaded by the Prometheus configuration the local stack writes', () => {
    const dir = tempDir();
    for (const [name, content] of Object.entries(prometheusFiles(stackSettings()))) writeFileSync(join(dir, name), content);
    const { code, output } = promtool('check', 'config', join(dir, 'prometheus.yml'));
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS: 1 rule files found');
    expect(output).toContain(`SUCCESS: ${rules} rules found`);
  });
});
