import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requirePromtool } from '../../src/stack/prerequisites.js';
import { DOCKER_DIR } from '../support/dockerfile.js';
import { alertRules } from '../support/monitoring.js';
import { tempDir } from '../support/temp.js';

describe('the Prometheus of docker/compose.yml under promtool', () => {
  it('has a valid configuration that loads every alert rule, laid out as compose mounts it', () => {
    // compose.yml mounts both files into /etc/prometheus; a folder stands in for it.
    const dir = tempDir();
    copyFileSync(join(DOCKER_DIR, 'compose', 'prometheus.yml'), join(dir, 'prometheus.yml'));
    copyFileSync(join(DOCKER_DIR, 'prometheus', 'alerts.yml'), join(dir, 'alerts.yml'));
    const promtool = requirePromtool((line) => process.stderr.write(`[promtool] ${line}\n`));
    const result = spawnSync(promtool, ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(output).toContain('SUCCESS: 1 rule files found');
    expect(output).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });
});
