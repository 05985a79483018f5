import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runCli, runNode } from '../support/cli.js';
import { exampleConfig } from '../support/example-config.js';
import { tempDir } from '../support/temp.js';

function configFile(content: string): string {
  const file = join(tempDir(), 'config.json');
  writeFileSync(file, content);
  return file;
}

describe('okta-forwarder config', () => {
  it('prints one key-named error per mistake and exits 2 for a file with three mistakes', async () => {
    const file = configFile(
      JSON.stringify({
        log: { level: 'verbose' },
        kafka: { brokerz: ['localhost:9092'] },
        okta: { orgs: [{ id: 'acme', domain: 'acme.okta.com', auth: { method: 'api-token' } }] },
      }),
    );
    const result = await runCli(['config', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const problems = result.stderr.split('\n').filter((line) => line.startsWith('  - '));
    expect(problems).toHaveLength(3);
    expect(result.stderr).toContain('3 problems');
    expect(problems[0]).toMatch(/^ {2}- log\.level: must be one of the possible values/);
    expect(result.stderr).toMatch(/- kafka\.brokerz: unknown setting/);
    expect(result.stderr).toMatch(/- okta\.orgs\[0\]\.auth: method "api-token" needs exactly one of tokenEnv/);
  });

  it('reads the file named by OKTA_FORWARDER_CONFIG and prints the effective configuration, secrets masked', async () => {
    const example = exampleConfig('canary-5b1e0c2f');
    const result = await runCli(['config'], { ...example.env, OKTA_FORWARDER_CONFIG: example.file, KAFKA_SASL_PASSWORD: 'canary-kafka-77aa' });
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { kafka: { sasl: { password: string } }; okta: { orgs: { id: string }[] } };
    expect(printed.okta.orgs.map((org) => org.id)).toEqual(['acme', 'globex']);
    expect(printed.kafka.sasl.password).toBe('[Sensitive]');
    expect(result.stdout + result.stderr).not.toContain('canary-kafka-77aa');
    expect(result.stderr).toContain('"msg":"configuration is valid"');
  });

  it('exits 2 with the reason when the file is missing or not JSON', async () => {
    const missing = await runCli(['config', '-c', '/no/such/file.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('reading configuration file /no/such/file.json: no such file');
    const broken = await runCli(['config', '-c', configFile('{"log": {"level": "info"},}')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid JSON: .*line 1, column 27/);
  });

  it('exits 2 with the usage for an unknown command or option', async () => {
    const command = await runCli(['frobnicate']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "frobnicate"');
    const option = await runCli(['config', '--confg', 'x.json']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--confg'");
  });
});

describe.skipIf(!existsSync(join(PROJECT_ROOT, 'dist', 'cli', 'main.js')))('the built okta-forwarder binary', () => {
  it('runs from dist/ as the package bin, with the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    expect(pkg.bin['okta-forwarder']).toBe('dist/cli/main.js');
    const result = await runNode(['dist/cli/main.js', '--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });
});
