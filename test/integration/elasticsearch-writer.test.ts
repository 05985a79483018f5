import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDocuments, type BulkItem } from '../../src/elasticsearch/writer.js';
import { startPrivateElasticsearch, type PrivateElasticsearch } from '../support/private-elasticsearch.js';
import { elasticsearchEndpoint, forwarderElasticsearchClient } from '../support/stack.js';
import { uniqueName } from '../support/wait.js';

/** The writer against the stack's real Elasticsearch: what it refuses, and what it does not take now. */
describe('the Elasticsearch writer (real server)', () => {
  let client: Client;
  const indices: string[] = [];

  beforeAll(() => {
    client = forwarderElasticsearchClient();
  });

  afterAll(async () => {
    if (indices.length > 0) await client.indices.delete({ index: indices, ignore_unavailable: true });
    await client.close();
  });

  function newIndex(): string {
    const index = uniqueName('it-writer');
    indices.push(index);
    return index;
  }

  async function count(index: string): Promise<number> {
    await client.indices.refresh({ index });
    return (await client.count({ index })).count;
  }

  const documents = (index: string, n: number, prefix: string): BulkItem<string>[] =>
    Array.from({ length: n }, (_, i) => ({ index, id: `${prefix}-${i}`, document: { time: Date.UTC(2026, 10, 26) + i, n: i }, ref: `${prefix}-${i}` }));

  it('indexes 9,999 documents and rejects only the one whose id is over 512 bytes, with the reason', async () => {
    const index = newIndex();
    const sent = documents(index, 10_000, 'good');
    const hostile = 'u'.repeat(600);
    sent.splice(4_321, 1, { index, id: hostile, document: { time: Date.UTC(2026, 10, 26), n: -1 }, ref: 'hostile' });
    // The sink's chunks are at most 1,000 records; here the writer is given all at once.
    const outcome = await writeDocuments(client, sent);
    expect(outcome.retriable).toEqual([]);
    expect(outcome.indexed).toHaveLength(9_999);
    expect(outcome.rejected.map((failure) => failure.item.ref)).toEqual(['hostile']);
    expect(outcome.rejected[0]?.reason).toMatch(/600 bytes/);
    expect(await count(index)).toBe(9_999);
  });

  it('reports every document to a write-blocked index as not now, rejects none, and lands them all once the block is lifted', async () => {
    const index = newIndex();
    const open = newIndex();
    await client.indices.create({ index });
    await client.indices.putSettings({ index, settings: { 'index.blocks.write': true } });
    const sent = [...documents(index, 500, 'blocked'), ...documents(open, 20, 'open')];

    const blocked = await writeDocuments(client, sent);
    expect(blocked.rejected).toEqual([]);
    expect(blocked.indexed.map((entry) => entry.ref)).toEqual(documents(open, 20, 'open').map((entry) => entry.ref));
    expect(blocked.retriable).toHaveLength(500);
    for (const failure of blocked.retriable) {
      expect(failure).toMatchObject({ status: 403, type: 'cluster_block_exception', condition: 'refusing' });
      expect(failure.reason).toContain(`index [${index}] blocked by: [FORBIDDEN/8/index write (api)]`);
    }

    await client.indices.putSettings({ index, settings: { 'index.blocks.write': false } });
    const again = await writeDocuments(client, blocked.retriable.map((failure) => failure.item));
    expect(again.retriable).toEqual([]);
    expect(again.rejected).toEqual([]);
    expect(again.indexed).toHaveLength(500);
    expect(await count(index)).toBe(500);
    expect(await count(open)).toBe(20);
  });
});

/** Starting a node of its own needs the local stack's prerequisites (a JDK, Maven); with containers there are none. */
describe.skipIf(elasticsearchEndpoint().provider !== 'local')('the Elasticsearch writer and a node with a small request limit', () => {
  // An Elasticsearch (or a proxy in front of it) that refuses requests over 2 MB: smaller than the
  // writer's own bound, so the writer learns of it only from the 413.
  let node: PrivateElasticsearch;
  let client: Client;
  beforeAll(async () => {
    node = await startPrivateElasticsearch({ settings: { 'http.max_content_length': '2mb' } });
    client = forwarderElasticsearchClient(node.endpoint);
  });
  afterAll(async () => {
    await client?.close();
    await node?.remove();
  });

  it('splits requests the node refuses as too large (413) until the one document it cannot take is alone, and indexes the others', async () => {
    const index = uniqueName('it-writer-413');
    const sent: BulkItem<string>[] = Array.from({ length: 400 }, (_, i) => ({
      index,
      id: `doc-${i}`,
      document: { n: i, text: 'z'.repeat(i === 123 ? 2_500_000 : 10_000) },
      ref: `doc-${i}`,
    }));
    const outcome = await writeDocuments(client, sent);
    expect(outcome.retriable).toEqual([]);
    expect(outcome.rejected.map((failure) => failure.item.ref)).toEqual(['doc-123']);
    expect(outcome.rejected[0]).toMatchObject({ status: 413 });
    expect(outcome.indexed).toHaveLength(399);
    await client.indices.refresh({ index });
    expect((await client.count({ index })).count).toBe(399);
  });
});
