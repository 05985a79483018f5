import { Client } from '@elastic/elasticsearch';
import { onTestFinished } from 'vitest';
import { elasticsearchEndpoint } from './stack.js';
import { waitFor } from './wait.js';

/** A client of the stack's Elasticsearch for a test's own indices (`<prefix>-*`), deleted when the test ends. */
export function testIndexClient(prefix: string): Client {
  const es = elasticsearchEndpoint();
  const client = new Client({ node: es.url, auth: { username: es.username, password: es.password }, maxRetries: 0 });
  onTestFinished(async () => {
    await client.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
    await client.close();
  });
  return client;
}

const ALL = { ignore_unavailable: true, allow_no_indices: true } as const;

/** Documents in the indices `<prefix>-*`, after a refresh. */
export async function documentCount(client: Client, prefix: string): Promise<number> {
  await client.indices.refresh({ index: `${prefix}-*`, ...ALL });
  return (await client.count({ index: `${prefix}-*`, ...ALL })).count;
}

/**
 * Index operations the primaries of `<prefix>-*` have performed (indexing.index_total): a document
 * indexed again under the same `_id` counts again, while the document count does not change. The
 * difference between the two is the number of records indexed more than once.
 */
export async function indexOperations(client: Client, prefix: string): Promise<number> {
  const stats = await client.indices.stats({ index: `${prefix}-*`, metric: 'indexing', ...ALL });
  return stats._all.primaries?.indexing?.index_total ?? 0;
}

/**
 * Index operations once Elasticsearch has finished what it was given: a `_bulk` request sent by a
 * process that was then killed still completes. Settled when two reads 500 ms apart agree.
 */
export async function settledIndexOperations(client: Client, prefix: string): Promise<number> {
  let previous = -1;
  const settled = await waitFor(
    async () => {
      const operations = await indexOperations(client, prefix);
      const same = operations === previous;
      previous = operations;
      return same ? { operations } : undefined;
    },
    `the index operations on ${prefix}-* to settle`,
    30_000,
    500,
  );
  return settled.operations;
}

/** The `_id` of every document in `<prefix>-*` (a uuid indexed into two indices shows twice). */
export async function documentIds(client: Client, prefix: string): Promise<string[]> {
  await client.indices.refresh({ index: `${prefix}-*`, ...ALL });
  const ids: string[] = [];
  for await (const response of client.helpers.scrollSearch({ index: `${prefix}-*`, size: 10_000, _source: false, sort: ['_doc'], ...ALL })) {
    for (const hit of response.body.hits.hits) ids.push(hit._id as string);
  }
  return ids;
}
