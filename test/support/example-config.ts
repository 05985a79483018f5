import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './cli.js';
import { tempDir } from './temp.js';

/**
 * A copy of config/example.json in a temporary folder, with the secret files it names created
 * (holding `secret`) and the environment variable it names, so it validates as shipped.
 * Deleted when the test ends.
 */
export function exampleConfig(secret: string): { file: string; dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir('okta-forwarder-config-');
  const file = join(dir, 'example.json');
  copyFileSync(join(PROJECT_ROOT, 'config', 'example.json'), file);
  mkdirSync(join(dir, 'secrets'));
  for (const name of ['globex-okta-key.pem', 'kafka-password', 'kafka-ca.pem', 'schema-registry-password', 'elasticsearch-api-key', 'elasticsearch-ca.pem']) {
    writeFileSync(join(dir, 'secrets', name), `${secret}\n`);
  }
  return { file, dir, env: { OKTA_API_TOKEN_ACME: secret } };
}
