import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runProcess } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

describe('an incomplete installation', () => {
  it('without schemas/ is an error at once (exit 1, the file named), not a wait for a dependency', async () => {
    // dist/ and package.json without schemas/: what a copy that forgot a folder leaves.
    const root = tempDir('okta-forwarder-install-');
    cpSync(join(PROJECT_ROOT, 'dist'), join(root, 'dist'), { recursive: true });
    cpSync(join(PROJECT_ROOT, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    for (const command of ['sink']) {
      const result = await runProcess(process.execPath, [join(root, 'dist', 'cli', 'main.js'), command], {
        cwd: root,
        // Nothing listens there: without the fix the process would wait for Kafka instead.
        env: { PATH: process.env.PATH, KAFKA_BROKERS: '127.0.0.1:1', METRICS_PORT: '0', OKTA_FORWARDER_CONFIG: '' },
      });
      expect(result.code, `${command}: ${result.stderr}`).toBe(1);
      expect(result.stderr).toContain(`reading the record schema ${join(root, 'schemas', 'okta-log-event.avsc')}`);
      expect(result.stderr).toContain('the installation is incomplete');
    }
  });
});
