import { errors, type Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createElasticsearchClient } from '../../src/elasticsearch/client.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName } from '../support/wait.js';

describe('Elasticsearch (real server)', () => {
  let client: Client;
  const indices: string[] = [];

  beforeAll(() => {
    const endpoint = elasticsearchEndpoint();
    // The product's own config -> client path, with the credentials in the environment.
    const { config } = loadConfig({
      env: { ELASTICSEARCH_URL: endpoint.url, ELASTICSEARCH_USERNAME: endpoint.username, ELASTICSEARCH_PASSWORD: endpoint.password },
    });
    client = createElasticsearchClient(config.elasticsearch);
  });

  afterAll(async () => {
    if (indices.length > 0) await client.indices.delete({ index: indices, ignore_unavailable: true });
    await client.close();
  });

  it('finds an indexed document by a search', async () => {
    const index = uniqueName('it-search');
    indices.push(index);
    await client.indices.create({ index, mappings: { properties: { actor: { type: 'keyword' }, src_ip: { type: 'ip' }, time: { type: 'date' } } } });
    await client.index({ index, id: 'uuid-1', document: { actor: 'alice@example.com', src_ip: '203.0.113.7', time: '2026-11-26T10:00:00Z' } });
    await client.index({ index, id: 'uuid-2', document: { actor: 'bob@example.com', src_ip: '198.51.100.1', time: '2026-11-26T11:00:00Z' } });
    await client.indices.refresh({ index });

    const result = await client.search<{ actor: string }>({ index, query: { term: { src_ip: '203.0.113.0/24' } } });
    expect(result.hits.hits.map((hit) => hit._id)).toEqual(['uuid-1']);
    expect(result.hits.hits[0]?._source?.actor).toBe('alice@example.com');
  });

  it('refuses a request with a wrong password when the stack runs with security', async (context) => {
    const endpoint = elasticsearchEndpoint();
    if (!endpoint.username) context.skip('the Elasticsearch given by the environment has no authentication');
    const { config } = loadConfig({
      env: { ELASTICSEARCH_URL: endpoint.url, ELASTICSEARCH_USERNAME: endpoint.username, ELASTICSEARCH_PASSWORD: 'wrong-password' },
    });
    const wrong = createElasticsearchClient(config.elasticsearch);
    try {
      const failure = await wrong.cluster.health().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(errors.ResponseError);
      expect((failure as errors.ResponseError).statusCode).toBe(401);
    } finally {
      await wrong.close();
    }
  });
});
