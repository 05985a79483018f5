import type { Client } from '@elastic/elasticsearch';

/** One document to index, with whatever the caller needs to settle it afterwards. */
export interface BulkItem<T> {
  index: string;
  id: string;
  document: Record<string, unknown>;
  ref: T;
}

export interface ItemFailure<T> {
  item: BulkItem<T>;
  status: number;
  /** Elasticsearch's error type (mapper_parsing_exception, es_rejected_execution_exception, …) or the client's. */
  type: string;
  reason: string;
}

export interface BulkOutcome<T> {
  indexed: BulkItem<T>[];
  /** 429, 5xx, timeouts, a cluster that does not answer: send again later. */
  retriable: ItemFailure<T>[];
  /** Mapping and parse errors and other 4xx: sending again cannot help; dead-letter them. */
  rejected: ItemFailure<T>[];
}

/** Item statuses worth another try: too many requests, and the server's own failures. */
export function isRetriableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/**
 * One `_bulk` request, classified per item, never per batch: some items of a batch may be indexed
 * while others must be retried and others are rejected. `index` operations with the caller's
 * `_id` make a replay overwrite instead of duplicate. A request that fails as a whole (the cluster
 * unreachable, a timeout, a 429 or 5xx for the request) makes every item retriable.
 */
export async function bulkIndex<T>(client: Client, items: BulkItem<T>[]): Promise<BulkOutcome<T>> {
  const outcome: BulkOutcome<T> = { indexed: [], retriable: [], rejected: [] };
  if (items.length === 0) return outcome;
  const operations: unknown[] = [];
  for (const item of items) operations.push({ index: { _index: item.index, _id: item.id } }, item.document);
  let response;
  try {
    response = await client.bulk({ operations, refresh: false });
  } catch (err) {
    const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode ?? 0;
    const failure = { status, type: (err as Error).name, reason: (err as Error).message };
    if (status !== 0 && !isRetriableStatus(status)) {
      // The whole request was refused (401, 403, 413, …): no item can be indexed as things are; keep trying, loudly.
      failure.type = `request_${status}`;
    }
    outcome.retriable = items.map((item) => ({ item, ...failure }));
    return outcome;
  }
  response.items.forEach((result, i) => {
    const item = items[i] as BulkItem<T>;
    const action = result.index ?? Object.values(result)[0];
    const status = action?.status ?? 0;
    if (status >= 200 && status < 300) {
      outcome.indexed.push(item);
      return;
    }
    const error = action?.error;
    const failure = { item, status, type: error?.type ?? 'unknown', reason: error?.reason ?? `status ${status}` };
    if (isRetriableStatus(status)) outcome.retriable.push(failure);
    else outcome.rejected.push(failure);
  });
  return outcome;
}
