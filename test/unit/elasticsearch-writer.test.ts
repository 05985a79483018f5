import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createElasticsearchClient } from '../../src/elasticsearch/client.js';
import { writeDocuments, type BulkItem, type WriteOutcome } from '../../src/elasticsearch/writer.js';
import { allCreated, elasticsearchFixture, startBulkServer, type ReceivedBulk, type RecordedResponse } from '../support/bulk-server.js';
import { tempDir } from '../support/temp.js';

const item = (id: string, document: Record<string, unknown> = { n: id }): BulkItem<string> => ({ index: 'activity', id, document, ref: id });
const ids = (list: { ref: string }[] | { item: { ref: string } }[]) => list.map((entry) => ('item' in entry ? entry.item.ref : entry.ref));
/** Every record in exactly one list of the outcome. */
function expectOneOutcomeEach(outcome: WriteOutcome<string>, sent: BulkItem<string>[]): void {
  const all = [...ids(outcome.indexed), ...ids(outcome.retriable), ...ids(outcome.rejected)];
  expect(all.sort()).toEqual(sent.map((entry) => entry.ref).sort());
}

describe('writing documents to Elasticsearch, one outcome per record', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function server(respond: (request: ReceivedBulk) => RecordedResponse, clientOf?: (url: string) => Client) {
    const bulk = await startBulkServer(respond);
    const client = clientOf ? clientOf(bulk.url) : bulk.client();
    cleanups.push(async () => {
      await client.close();
      await bulk.close();
    });
    return { ...bulk, client };
  }

  it('indexes what Elasticsearch takes and gives its 429 items back to send later, rejecting none', async () => {
    const { client } = await server(() => elasticsearchFixture('item-429-rejected-execution'));
    const sent = ['s15-0', 's15-1', 's15-2', 's15-3', 's15-4', 's15-5'].map((id) => item(id));
    const outcome = await writeDocuments(client, sent);
    expectOneOutcomeEach(outcome, sent);
    expect(outcome.rejected).toEqual([]);
    expect(outcome.indexed).toHaveLength(3);
    expect(outcome.retriable).toHaveLength(3);
    for (const failure of outcome.retriable) {
      expect(failure).toMatchObject({ status: 429, type: 'es_rejected_execution_exception', condition: 'overloaded' });
      expect(failure.reason).toMatch(/^rejected execution of/);
    }
  });

  it('gives every record back to send later when the whole request is answered 429', async () => {
    const { client } = await server(() => elasticsearchFixture('request-429-rejected-execution'));
    const sent = ['a', 'b', 'c'].map((id) => item(id));
    const outcome = await writeDocuments(client, sent);
    expect(outcome.indexed).toEqual([]);
    expect(outcome.rejected).toEqual([]);
    expect(ids(outcome.retriable)).toEqual(['a', 'b', 'c']);
    expect(outcome.retriable[0]).toMatchObject({ status: 429, type: 'es_rejected_execution_exception', condition: 'overloaded' });
  });

  it("rejects a document Elasticsearch cannot parse, with its error type and reason, and indexes the others", async () => {
    const { client } = await server(() => elasticsearchFixture('item-400-document-parsing'));
    const sent = ['good-1', 'bad-1', 'good-2'].map((id) => item(id));
    const outcome = await writeDocuments(client, sent);
    expect(ids(outcome.indexed)).toEqual(['good-1', 'good-2']);
    expect(outcome.retriable).toEqual([]);
    expect(outcome.rejected).toHaveLength(1);
    expect(outcome.rejected[0]).toMatchObject({ status: 400, type: 'document_parsing_exception' });
    expect(outcome.rejected[0]?.item.ref).toBe('bad-1');
    expect(outcome.rejected[0]?.reason).toContain("failed to parse field [count] of type [integer] in document with id 'bad-1'");
  });

  it('isolates the one record of a request Elasticsearch refuses as a whole (400) and indexes the 999 others', async () => {
    // The culprit is one Elasticsearch refuses and the writer cannot know of in advance: the
    // server answers the recorded 400 to any request that carries it.
    const culprit = 'r-613';
    const bulk = await server((request) => (request.ids.includes(culprit) ? elasticsearchFixture('request-400-id-too-long') : allCreated(request)));
    const sent = Array.from({ length: 1000 }, (_, i) => item(`r-${i}`));
    const outcome = await writeDocuments(bulk.client, sent);
    expectOneOutcomeEach(outcome, sent);
    expect(outcome.indexed).toHaveLength(999);
    expect(outcome.retriable).toEqual([]);
    expect(ids(outcome.rejected)).toEqual([culprit]);
    expect(outcome.rejected[0]).toMatchObject({ status: 400, type: 'action_request_validation_exception' });
    expect(outcome.rejected[0]?.reason).toMatch(/is too long, must be no longer than 512 bytes but was: 600/);
    // Halving: about two requests per level, not one per record.
    expect(bulk.received.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(1000)) + 1);
  });

  it('isolates the one record that makes a request too large for Elasticsearch (413) and indexes the others', async () => {
    // An Elasticsearch (or a proxy) whose request limit is lower than the writer's: 100 KB here.
    const limit = 100_000;
    const bulk = await server((request) => (request.bytes > limit ? elasticsearchFixture('request-413-content-too-long') : allCreated(request)));
    const sent = Array.from({ length: 300 }, (_, i) => item(`r-${i}`, { n: i, text: 'x'.repeat(i === 42 ? 150_000 : 200) }));
    const outcome = await writeDocuments(bulk.client, sent);
    expectOneOutcomeEach(outcome, sent);
    expect(outcome.indexed).toHaveLength(299);
    expect(outcome.retriable).toEqual([]);
    expect(ids(outcome.rejected)).toEqual(['r-42']);
    expect(outcome.rejected[0]).toMatchObject({ status: 413 });
    expect(outcome.rejected[0]?.reason).toMatch(/too large/);
  });

  it('rejects an id Elasticsearch cannot take (over 512 bytes, empty) without sending it, and indexes the others in one request', async () => {
    const bulk = await server((request) => (request.ids.some((id) => Buffer.byteLength(id) > 512 || id === '') ? elasticsearchFixture('request-400-id-too-long') : allCreated(request)));
    const long = 'é'.repeat(257); // 514 bytes in 257 characters
    const sent = [item('a'), item(long), item('b'), item(''), item('é'.repeat(256))];
    const outcome = await writeDocuments(bulk.client, sent);
    expect(ids(outcome.indexed)).toEqual(['a', 'b', 'é'.repeat(256)]);
    expect(ids(outcome.rejected).sort()).toEqual(['', long].sort());
    expect(outcome.rejected.find((failure) => failure.item.ref === long)?.reason).toMatch(/514 bytes/);
    expect(outcome.rejected.find((failure) => failure.item.ref === '')?.reason).toMatch(/empty/);
    expect(bulk.received).toHaveLength(1);
  });

  it('keeps each request under the size bound and rejects alone a document larger than a request may be', async () => {
    const bulk = await server(allCreated);
    const sent = Array.from({ length: 50 }, (_, i) => item(`r-${i}`, { text: 'y'.repeat(i === 7 ? 20_000 : 1_000) }));
    const outcome = await writeDocuments(bulk.client, sent, { maxRequestBytes: 10_000 });
    expectOneOutcomeEach(outcome, sent);
    expect(ids(outcome.rejected)).toEqual(['r-7']);
    expect(outcome.rejected[0]).toMatchObject({ type: 'document_too_large', status: 413 });
    expect(outcome.indexed).toHaveLength(49);
    expect(bulk.received.length).toBeGreaterThan(1);
    for (const request of bulk.received) expect(request.bytes).toBeLessThanOrEqual(10_000);
  });

  it.each([
    ['item-403-write-block', 403, /blocked by: \[FORBIDDEN\/8\/index write \(api\)\]/],
    ['item-429-read-only-allow-delete-block', 429, /read-only-allow-delete block/],
  ])('gives documents to a write-blocked index back to wait for, never rejecting them (%s)', async (fixture, status, reason) => {
    const { client } = await server(() => elasticsearchFixture(fixture));
    const sent = ['blocked-1', 'open-1', 'blocked-2'].map((id) => item(id));
    const outcome = await writeDocuments(client, sent);
    expect(outcome.rejected).toEqual([]);
    expect(ids(outcome.indexed)).toEqual(['open-1']);
    expect(ids(outcome.retriable)).toEqual(['blocked-1', 'blocked-2']);
    for (const failure of outcome.retriable) {
      expect(failure).toMatchObject({ status, type: 'cluster_block_exception', condition: 'refusing' });
      expect(failure.reason).toMatch(reason);
    }
  });

  it('gives documents to a closed index back to wait for', async () => {
    const { client } = await server(() => elasticsearchFixture('item-400-index-closed'));
    const outcome = await writeDocuments(client, ['blocked-1', 'open-1', 'blocked-2'].map((id) => item(id)));
    expect(outcome.rejected).toEqual([]);
    expect(ids(outcome.retriable)).toEqual(['blocked-1', 'blocked-2']);
    expect(outcome.retriable[0]).toMatchObject({ type: 'index_closed_exception', condition: 'refusing' });
  });

  it('gives every record back to wait for when Elasticsearch refuses the credentials (401)', async () => {
    const { client } = await server(() => elasticsearchFixture('request-401-wrong-password'));
    const sent = ['a', 'b'].map((id) => item(id));
    const outcome = await writeDocuments(client, sent);
    expect(outcome.indexed).toEqual([]);
    expect(outcome.rejected).toEqual([]);
    expect(ids(outcome.retriable)).toEqual(['a', 'b']);
    expect(outcome.retriable[0]).toMatchObject({ status: 401, type: 'security_exception', condition: 'refusing' });
    expect(outcome.retriable[0]?.reason).toContain('unable to authenticate user [elastic]');
  });

  it('gives every record back when Elasticsearch does not answer', async () => {
    const bulk = await server(allCreated);
    await bulk.close();
    const outcome = await writeDocuments(bulk.client, [item('a'), item('b')]);
    expect(ids(outcome.retriable)).toEqual(['a', 'b']);
    expect(outcome.retriable[0]).toMatchObject({ status: 0, condition: 'unreachable' });
  });

  it('reads the password file again after a 401 and uses the new password at once', async () => {
    const dir = tempDir();
    const passwordFile = join(dir, 'elasticsearch-password');
    writeFileSync(passwordFile, 'first-password\n');
    let accepted = 'first-password';
    const basic = (password: string) => `Basic ${Buffer.from(`forwarder:${password}`).toString('base64')}`;
    const bulk = await server(
      (request) => (request.headers.authorization === basic(accepted) ? allCreated(request) : elasticsearchFixture('request-401-wrong-password')),
      (url) =>
        createElasticsearchClient(
          loadConfig({ env: { ELASTICSEARCH_URL: url, ELASTICSEARCH_USERNAME: 'forwarder', ELASTICSEARCH_PASSWORD_FILE: passwordFile } }).config.elasticsearch,
          { maxRetries: 0 },
        ),
    );
    expect((await writeDocuments(bulk.client, [item('a')])).indexed).toHaveLength(1);

    // The password is changed in Elasticsearch; the file still holds the old one: not now, no rejection.
    accepted = 'second-password';
    const refused = await writeDocuments(bulk.client, [item('b')]);
    expect(refused.retriable[0]).toMatchObject({ status: 401, condition: 'refusing' });
    expect(refused.rejected).toEqual([]);

    // The file is fixed: the next attempt reads it and lands, without a restart.
    writeFileSync(passwordFile, 'second-password\n');
    expect(ids((await writeDocuments(bulk.client, [item('b')])).indexed)).toEqual(['b']);

    // Rotated again, file first: the 401 makes the writer read the file and send again at once.
    writeFileSync(passwordFile, 'third-password\n');
    accepted = 'third-password';
    const before = bulk.received.length;
    expect(ids((await writeDocuments(bulk.client, [item('c')])).indexed)).toEqual(['c']);
    expect(bulk.received.length - before).toBe(2);
  });
});
