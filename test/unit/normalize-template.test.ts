import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_MAPPINGS, activityIndexTemplate } from '../../src/elasticsearch/template.js';
import { OCSF_VERSION, normalizeEvent, type ActivityDocument } from '../../src/normalize/index.js';
import { fieldName, leaves } from '../../src/normalize/leaf-paths.js';
import { startSimulator } from '../../src/simulator/index.js';
import { PROJECT_ROOT } from '../support/cli.js';

// The template is `dynamic: strict`: this proves normalizeEvent never writes a path the template
// does not map (fixtures, shared real events and simulator events), so strict never bites in use.

interface MappingNode {
  type?: string;
  properties?: Record<string, MappingNode>;
}

/** Field name -> mapped type, for every mapped leaf field (objects contribute their children). */
function mappedFields(node: MappingNode, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (child.properties) for (const [p, t] of mappedFields(child, path)) out.set(p, t);
    else out.set(path, child.type ?? 'object');
  }
  return out;
}

function ndjsonEvents(dir: string): Record<string, unknown>[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ndjson'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n').filter((line) => line.trim() !== ''))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function normalizeAll(events: Record<string, unknown>[]): ActivityDocument[] {
  return events.flatMap((event) => {
    try {
      return [normalizeEvent(event, { org: 'acme.okta.com', keepRaw: true })];
    } catch {
      return []; // the dead-letter path, tested elsewhere
    }
  });
}

describe('the activity index template', () => {
  const fields = mappedFields(ACTIVITY_MAPPINGS as unknown as MappingNode);

  it('maps every path normalizeEvent writes (strict mapping never rejects a normalized document)', async () => {
    const sim = await startSimulator({ seed: 7 });
    const simulated = sim.generate(3000) as unknown as Record<string, unknown>[];
    await sim.close();
    const documents = normalizeAll([
      ...ndjsonEvents(join(PROJECT_ROOT, 'test', 'fixtures', 'okta-events')),
      ...ndjsonEvents(join(PROJECT_ROOT, '..', 'shared', 'data', 'okta-events')),
      ...simulated,
    ]);
    expect(documents.length).toBeGreaterThan(3000);
    const written = new Set<string>();
    for (const document of documents) {
      const { unmapped, raw_data, ...rest } = document;
      void unmapped;
      void raw_data;
      for (const leaf of leaves(rest)) written.add(fieldName(leaf.path));
    }
    const missing = [...written].filter((name) => !fields.has(name));
    expect(missing).toEqual([]);
  });

  it('gives addresses, places, times and the unmapped remainder their types', () => {
    expect(fields.get('src_endpoint.ip')).toBe('ip');
    expect(fields.get('src_endpoint.intermediate_ips')).toBe('ip');
    expect(fields.get('src_endpoint.location.coordinates')).toBe('geo_point');
    expect(fields.get('@timestamp')).toBe('date');
    expect(fields.get('time')).toBe('date');
    expect(fields.get('unmapped')).toBe('flattened');
    expect(fields.get('message')).toBe('text');
    expect(fields.get('metadata.uid')).toBe('keyword');
    expect(ACTIVITY_MAPPINGS.dynamic).toBe('strict');
    const allTypes = new Set(fields.values());
    for (const unavailable of ['match_only_text', 'wildcard']) expect(allTypes.has(unavailable)).toBe(false);
  });

  it('targets the prefix and carries the OCSF and template versions', () => {
    const template = activityIndexTemplate('okta-activity');
    expect(template.index_patterns).toEqual(['okta-activity-*']);
    expect(template._meta).toMatchObject({ ocsf_version: OCSF_VERSION, template_version: 1 });
  });
});
