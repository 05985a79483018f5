import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activitySummary } from '../../src/cli/activity-summary.js';
import { activityIndexTemplate, installIndexTemplate } from '../../src/elasticsearch/template.js';
import { indexFor, normalizeEvent } from '../../src/normalize/index.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName } from '../support/wait.js';

const ORG = 'acme.okta.com';
const DAY = 86_400_000;

/** Okta outcome.result values and how many events of each: 10,500 in all, past Elasticsearch's default count of 10,000 hits. */
const OUTCOMES: [string | undefined, number][] = [
  ['SUCCESS', 7_000],
  ['FAILURE', 1_500],
  ['DENY', 500],
  ['ALLOW', 900],
  ['CHALLENGE', 400],
  [undefined, 200],
];

function signIn(result: string | undefined, i: number): Record<string, unknown> {
  return {
    uuid: randomUUID(),
    published: new Date(Date.now() - 2 * DAY + i * 1000).toISOString(),
    eventType: 'user.session.start',
    severity: 'INFO',
    displayMessage: 'User login to Okta',
    actor: { id: '00ua1ice000000000x7', type: 'User', alternateId: 'alice@acme.example', displayName: 'Alice Nguyen' },
    ...(result ? { outcome: { result, reason: result === 'FAILURE' ? 'INVALID_CREDENTIALS' : null } } : {}),
  };
}

describe("the demo's summary of what landed in Elasticsearch", () => {
  let client: Client;
  const prefix = uniqueName('it-summary');

  beforeAll(async () => {
    const { url, username, password } = elasticsearchEndpoint();
    client = new Client({ node: url, ...(username ? { auth: { username, password } } : {}) });
    await installIndexTemplate(client, prefix);
    let i = 0;
    const documents = OUTCOMES.flatMap(([result, count]) => Array.from({ length: count }, () => normalizeEvent(signIn(result, i++), { org: ORG })));
    // Another org's documents in the same indices are not counted.
    documents.push(...Array.from({ length: 50 }, () => normalizeEvent(signIn('SUCCESS', i++), { org: 'other.okta.com' })));
    for (let start = 0; start < documents.length; start += 5_000) {
      const operations = documents.slice(start, start + 5_000).flatMap((document) => [{ index: { _index: indexFor(prefix, document) } }, document]);
      const response = await client.bulk({ operations });
      expect(response.items.filter((item) => item.index?.error).map((item) => item.index?.error)).toEqual([]);
    }
    await client.indices.refresh({ index: `${prefix}-*` });
  }, 120_000);

  afterAll(async () => {
    if (!client) return;
    await client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await client.indices.deleteIndexTemplate({ name: activityIndexTemplate(prefix).name }, { ignore: [404] });
    await client.close();
  });

  it('counts every document exactly, past 10,000, and each status of each class', async () => {
    const summary = await activitySummary(client, prefix, ORG);
    expect(summary).toContain(`What landed in Elasticsearch (index pattern ${prefix}-*, tenant ${ORG}): 10,500 activity documents`);
    expect(summary).toMatch(/^ {2}Authentication +10,500 +Success 7,000, Failure 2,000, Other 1,300, Unknown 200$/m);
  });

  it("groups by the OCSF status an analyst filters on, says what each means, and shows Okta's raw outcome only as a labelled detail of Other", async () => {
    const summary = await activitySummary(client, prefix, ORG);
    const rows = summary.split('\n').filter((line) => line.startsWith('  Authentication'));
    expect(rows).toHaveLength(1);
    // Okta's own values never stand beside the OCSF statuses in the class rows.
    expect(rows[0]).not.toMatch(/SUCCESS|FAILURE|DENY|ALLOW|CHALLENGE/);
    const legend = summary.slice(summary.indexOf('What each status means:'));
    expect(legend).toMatch(/^ {2}Success \(status_id 1\) +\S.*$/m);
    expect(legend).toMatch(/^ {2}Failure \(status_id 2\) +.*FAILURE or DENY/m);
    expect(legend).toMatch(/^ {2}Other \(status_id 99\) +.*status_code: ALLOW 900, CHALLENGE 400$/m);
    expect(legend).toMatch(/^ {2}Unknown \(status_id 0\) +\S/m);
    expect(summary).toMatch(/A failed sign-in, as analysts see it:\n\{/);
  });
});
