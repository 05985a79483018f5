import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../src/config/index.js';
import { settings } from '../../src/config/reference.js';
import { PROJECT_ROOT } from '../support/cli.js';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');
const readme = read('README.md');
const configuration = read('docs/configuration.md');

describe('README', () => {
  it('names the test command that .ci/run runs', () => {
    const ci = read('.ci/run');
    const lastCommand = ci.trim().split('\n').at(-1);
    expect(lastCommand).toBe('npm test');
    expect(readme).toContain('npm test ');
  });

  it('stays the front door: at most about 200 lines, with a link to each page of docs/', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(210);
    for (const page of readdirSync(join(PROJECT_ROOT, 'docs')).filter((name) => name.endsWith('.md'))) {
      expect(readme, `README links docs/${page}`).toContain(`(docs/${page}`);
    }
  });
});

describe('docs/configuration.md', () => {
  it('holds the configuration reference exactly as the schema declares it', () => {
    const match = /<!-- config-reference:start -->\n([\s\S]*?)<!-- config-reference:end -->/.exec(configuration);
    expect(match, 'docs/configuration.md has no config-reference markers').not.toBeNull();
    expect(match?.[1]).toBe(configReference());
  });

  it('documents every setting with its environment variable', () => {
    for (const [key, setting] of settings()) {
      expect(setting.doc.length, `${key} has no doc`).toBeGreaterThan(10);
      expect(configuration).toContain(`| \`${key}\` |`);
      if (setting.env) expect(configuration).toContain(`\`${setting.env}\``);
    }
  });
});

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (!heading) continue;
    const base = anchorOf(heading[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The markdown files of the project (not dependencies, not the local stack's data). */
function markdownFiles(dir = PROJECT_ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

describe('links between the documents', () => {
  it('every relative link resolves: the file exists, and the heading an anchor names is there', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target as string)) continue; // https:, mailto:
        const [path, anchor] = (target as string).split('#') as [string, string | undefined];
        const resolved = path === '' ? file : join(dirname(file), path);
        const where = `${relative(PROJECT_ROOT, file)} → ${target}`;
        if (!existsSync(resolved)) {
          broken.push(`${where}: no such file`);
          continue;
        }
        if (anchor && resolved.endsWith('.md') && !anchorsIn(readFileSync(resolved, 'utf8')).has(anchor)) broken.push(`${where}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("computes anchors as GitHub does (the rule the check relies on)", () => {
    expect(anchorsIn('# The poller: Okta System Log → Kafka\n## `config/example.json`, explained\n## Reference\n## Reference')).toEqual(
      new Set(['the-poller-okta-system-log--kafka', 'configexamplejson-explained', 'reference', 'reference-1']),
    );
  });
});
