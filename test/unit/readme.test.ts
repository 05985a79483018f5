import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../src/config/index.js';
import { settings } from '../../src/config/reference.js';
import { PROJECT_ROOT } from '../support/cli.js';

const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('holds the configuration reference exactly as the schema declares it', () => {
    const match = /<!-- config-reference:start -->\n([\s\S]*?)<!-- config-reference:end -->/.exec(readme);
    expect(match, 'the README has no config-reference markers').not.toBeNull();
    expect(match?.[1]).toBe(configReference());
  });

  it('documents every setting with its environment variable', () => {
    for (const [key, setting] of settings()) {
      expect(setting.doc.length, `${key} has no doc`).toBeGreaterThan(10);
      expect(readme).toContain(`| \`${key}\` |`);
      if (setting.env) expect(readme).toContain(`\`${setting.env}\``);
    }
  });

  it('names the test command that .ci/run runs', () => {
    const ci = readFileSync(join(PROJECT_ROOT, '.ci', 'run'), 'utf8');
    const lastCommand = ci.trim().split('\n').at(-1);
    expect(lastCommand).toBe('npm test');
    expect(readme).toContain('npm test ');
  });
});

describe('README for analysts', () => {
  const demote = (markdown: string) => markdown.replace(/^(#+) /gm, '#$1 ');
  for (const [marker, file] of [
    ['activity-schema', 'schemas/activity-schema.md'],
    ['queries', 'schemas/queries.md'],
  ] as const) {
    it(`holds ${file}, headings one level down`, () => {
      const match = new RegExp(`<!-- ${marker}:start -->\\n([\\s\\S]*?)<!-- ${marker}:end -->`).exec(readme);
      expect(match, `the README has no ${marker} markers`).not.toBeNull();
      expect(match?.[1]).toBe(demote(readFileSync(join(PROJECT_ROOT, file), 'utf8')));
    });
  }
});
