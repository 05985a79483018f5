import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityIndexTemplate, installIndexTemplate } from '../../src/elasticsearch/template.js';
import { indexFor, normalizeEvent, type ActivityDocument } from '../../src/normalize/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName } from '../support/wait.js';

const at = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);

function fixtureEvents(): Record<string, unknown>[] {
  const dir = join(PROJECT_ROOT, 'test', 'fixtures', 'okta-events');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ndjson'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n').filter((line) => line.trim() !== ''))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the activity index template on a real Elasticsearch', () => {
  let client: Client;
  const prefix = uniqueName('it-activity');
  const documents = new Map<string, ActivityDocument>(); // by _id = metadata.uid

  beforeAll(async () => {
    const { url, username, password } = elasticsearchEndpoint();
    client = new Client({ node: url, ...(username ? { auth: { username, password } } : {}) });
    const sim = await startSimulator({ seed: 11 });
    const simulated = sim.generate(500) as unknown as Record<string, unknown>[];
    await sim.close();
    for (const event of [...fixtureEvents(), ...simulated]) {
      let document: ActivityDocument;
      try {
        document = normalizeEvent(event, { org: 'acme.okta.com', keepRaw: true });
      } catch {
        continue; // no published time: the dead-letter path
      }
      const uid = at(document, 'metadata', 'uid');
      if (typeof uid === 'string') documents.set(uid, document);
    }
  });

  afterAll(async () => {
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await client.indices.deleteIndexTemplate({ name: activityIndexTemplate(prefix).name }, { ignore: [404] });
    await client.close();
  });

  async function indexAll(): Promise<void> {
    const operations = [...documents].flatMap(([id, document]) => [{ index: { _index: indexFor(prefix, document), _id: id } }, document]);
    const response = await client.bulk({ operations });
    const failures = response.items.filter((item) => item.index?.error).map((item) => ({ id: item.index?._id, error: item.index?.error }));
    expect(failures).toEqual([]);
    await client.indices.refresh({ index: `${prefix}-*` });
  }

  const count = async (): Promise<number> => (await client.count({ index: `${prefix}-*` })).count;

  const idsMatching = async (query: object): Promise<string[]> => {
    const result = await client.search({ index: `${prefix}-*`, query, size: 10_000, _source: false });
    return result.hits.hits.map((hit) => hit._id as string).sort();
  };

  const expectedIds = (predicate: (document: ActivityDocument) => boolean): string[] =>
    [...documents].filter(([, document]) => predicate(document)).map(([id]) => id).sort();

  it('installs idempotently and indexes every normalized document without an item error', async () => {
    await installIndexTemplate(client, prefix);
    await installIndexTemplate(client, prefix);
    const stored = await client.indices.getIndexTemplate({ name: activityIndexTemplate(prefix).name });
    expect(stored.index_templates).toHaveLength(1);
    expect(stored.index_templates[0]?.index_template._meta).toMatchObject({ template_version: 1 });

    expect(documents.size).toBeGreaterThan(500);
    await indexAll();
    expect(await count()).toBe(documents.size);
  });

  it('maps IPs, coordinates, times, ids and the unmapped remainder with their types', async () => {
    const mapping = await client.indices.getMapping({ index: `${prefix}-*` });
    const first = Object.values(mapping)[0]?.mappings as unknown;
    const typeOf = (...path: string[]): unknown => at(first, ...path.flatMap((step) => ['properties', step]), 'type');
    expect(typeOf('src_endpoint', 'ip')).toBe('ip');
    expect(typeOf('src_endpoint', 'intermediate_ips')).toBe('ip');
    expect(typeOf('src_endpoint', 'location', 'coordinates')).toBe('geo_point');
    expect(typeOf('@timestamp')).toBe('date');
    expect(typeOf('time')).toBe('date');
    expect(typeOf('metadata', 'uid')).toBe('keyword');
    expect(typeOf('actor', 'user', 'name')).toBe('keyword');
    expect(typeOf('unmapped')).toBe('flattened');
    expect(at(first, 'dynamic')).toBe('strict');
  });

  it('answers a CIDR term query on the source IP', async () => {
    const inNet = (document: ActivityDocument): boolean => String(at(document, 'src_endpoint', 'ip') ?? '').startsWith('198.51.100.');
    expect(expectedIds(inNet).length).toBeGreaterThan(0);
    expect(await idsMatching({ term: { 'src_endpoint.ip': '198.51.100.0/24' } })).toEqual(expectedIds(inNet));
  });

  it('answers a geo query on the source location', async () => {
    const box = { top: 53, left: 13, bottom: 52, right: 14 }; // around Berlin
    const inBox = (document: ActivityDocument): boolean => {
      const lat = at(document, 'src_endpoint', 'location', 'lat') as number | undefined;
      const lon = at(document, 'src_endpoint', 'location', 'long') as number | undefined;
      return lat !== undefined && lon !== undefined && lat <= box.top && lat >= box.bottom && lon >= box.left && lon <= box.right;
    };
    expect(expectedIds(inBox).length).toBeGreaterThan(0);
    expect(await idsMatching({ geo_bounding_box: { 'src_endpoint.location.coordinates': { top_left: { lat: box.top, lon: box.left }, bottom_right: { lat: box.bottom, lon: box.right } } } })).toEqual(expectedIds(inBox));
  });

  it('answers a range query on @timestamp', async () => {
    const from = Date.parse('2024-05-14T00:00:00Z');
    const to = Date.parse('2024-06-02T00:00:00Z');
    const inRange = (document: ActivityDocument): boolean => (document.time as number) >= from && (document.time as number) < to;
    expect(expectedIds(inRange).length).toBeGreaterThan(0);
    expect(await idsMatching({ range: { '@timestamp': { gte: '2024-05-14T00:00:00Z', lt: '2024-06-02T00:00:00Z' } } })).toEqual(expectedIds(inRange));
  });

  it('answers a query on a key under unmapped', async () => {
    const matches = (document: ActivityDocument): boolean => at(document, 'unmapped', 'debugContext', 'debugData', 'threatSuspected') === 'true';
    expect(expectedIds(matches).length).toBeGreaterThan(0);
    expect(await idsMatching({ term: { 'unmapped.debugContext.debugData.threatSuspected': 'true' } })).toEqual(expectedIds(matches));
  });

  it('keeps the count when the same documents are indexed again (idempotent by metadata.uid)', async () => {
    await indexAll();
    expect(await count()).toBe(documents.size);
  });
});
