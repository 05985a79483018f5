import type { Client } from '@elastic/elasticsearch';
import { formatCount } from './terminal.js';

/**
 * OCSF `status_id` values as normalize writes them (src/normalize/value-tables.ts), with what each
 * means in Okta's terms: the field an analyst filters on, not Okta's raw `outcome.result`.
 */
const STATUSES = [
  { id: 1, name: 'Success', meaning: "Okta's outcome.result SUCCESS" },
  { id: 2, name: 'Failure', meaning: 'FAILURE or DENY: a sign-in refused, an action denied' },
  { id: 99, name: 'Other', meaning: 'any other Okta result (a policy ALLOW, an MFA CHALLENGE, ...), kept as Okta wrote it in status_code' },
  { id: 0, name: 'Unknown', meaning: 'the event carries no outcome.result' },
] as const;

interface Bucket<K = string> {
  key: K;
  doc_count: number;
}

/**
 * What landed in Elasticsearch for one org, as a person reads it: the exact number of activity
 * documents (Elasticsearch stops counting hits at 10,000 unless asked to count them all), each
 * OCSF class by status, what each status means, and one failed sign-in as analysts see it.
 */
export async function activitySummary(client: Client, prefix: string, org: string): Promise<string> {
  const index = `${prefix}-*`;
  const query = { term: { 'metadata.tenant_uid': org } };
  const result = await client.search({
    index,
    size: 0,
    track_total_hits: true,
    query,
    aggs: {
      classes: { terms: { field: 'class_name', size: 50 }, aggs: { statuses: { terms: { field: 'status_id', size: 10 } } } },
      statuses: { terms: { field: 'status_id', size: 10 } },
      other: { filter: { term: { status_id: 99 } }, aggs: { codes: { terms: { field: 'status_code', size: 10 } } } },
    },
  });
  const total = typeof result.hits.total === 'number' ? result.hits.total : (result.hits.total?.value ?? 0);
  const aggregations = result.aggregations as unknown as {
    classes: { buckets: (Bucket & { statuses: { buckets: Bucket<number>[] } })[] };
    statuses: { buckets: Bucket<number>[] };
    other: { codes: { buckets: Bucket[] } };
  };
  const statusName = (id: number) => STATUSES.find((status) => status.id === id)?.name ?? `status_id ${id}`;
  const byStatus = (buckets: Bucket<number>[]) => buckets.map((b) => `${statusName(b.key)} ${formatCount(b.doc_count)}`).join(', ');
  const rows = aggregations.classes.buckets.map((b) => `  ${b.key.padEnd(28)} ${formatCount(b.doc_count).padStart(8)}   ${byStatus(b.statuses.buckets)}`);
  const present = new Set(aggregations.statuses.buckets.map((b) => b.key));
  const codes = aggregations.other.codes.buckets.map((b) => `${b.key} ${formatCount(b.doc_count)}`).join(', ');
  const legend = STATUSES.filter((status) => present.has(status.id)).map(
    (status) => `  ${`${status.name} (status_id ${status.id})`.padEnd(24)} ${status.meaning}${status.id === 99 && codes ? `; here, by status_code: ${codes}` : ''}`,
  );
  const sample = await client.search({ index, size: 1, query: { bool: { filter: [query, { term: { class_uid: 3002 } }, { term: { status_id: 2 } }] } } });
  const doc = sample.hits.hits[0]?._source;
  return [
    '',
    `What landed in Elasticsearch (index pattern ${index}, tenant ${org}): ${formatCount(total)} activity documents`,
    '',
    '  class (class_name)              count   by status (the OCSF status an analyst filters on)',
    ...rows,
    '',
    'What each status means:',
    ...legend,
    '',
    doc ? `A failed sign-in, as analysts see it:\n${JSON.stringify(doc, null, 2)}\n` : '',
  ].join('\n');
}
