import { Buffer } from 'node:buffer';
import { errors, type Client, type estypes } from '@elastic/elasticsearch';

/** One document to index, with whatever the caller needs to settle it afterwards. */
export interface BulkItem<T> {
  index: string;
  id: string;
  document: Record<string, unknown>;
  ref: T;
}

export interface ItemFailure<T> {
  item: BulkItem<T>;
  /** The HTTP status Elasticsearch gave the item or the request; 0 when there was no answer. */
  status: number;
  /** Elasticsearch's error type (document_parsing_exception, es_rejected_execution_exception, …) or the forwarder's own. */
  type: string;
  reason: string;
}

/**
 * Why Elasticsearch does not take a document now:
 * - `overloaded`: it answers 429 or 5xx (a full write queue, a circuit breaker): it takes the
 *   document a little later;
 * - `unreachable`: no answer (connection refused, a timeout);
 * - `refusing`: it answers but does not take documents until something changes: an index write
 *   block or a disk watermark, a closed or missing index, 401 (the credentials), 403 (the
 *   privileges). A person has to act; the caller waits and says so.
 */
export type NotNowCondition = 'overloaded' | 'unreachable' | 'refusing';

export interface NotNow<T> extends ItemFailure<T> {
  condition: NotNowCondition;
}

/** Exactly one entry per record given to writeDocuments, in one of the three lists. */
export interface WriteOutcome<T> {
  indexed: BulkItem<T>[];
  /** Not now: send these again later, unchanged; nothing is wrong with them. */
  retriable: NotNow<T>[];
  /** A fault of the record itself (its mapping, its id, its size): sending it again cannot help. */
  rejected: ItemFailure<T>[];
}

export interface WriteOptions {
  /**
   * Upper bound of one `_bulk` request body. Elasticsearch refuses a request over
   * http.max_content_length (100 MB by default) as a whole, and holds a request in memory under
   * its indexing-pressure limit (10% of the heap): requests stay well under both. A document
   * that alone is larger is rejected.
   */
  maxRequestBytes?: number;
  /** Cancels the request in flight (stop, a lost partition): its records come back not now. */
  signal?: AbortSignal;
}

export const DEFAULT_MAX_REQUEST_BYTES = 20 * 1024 * 1024;

/** Elasticsearch refuses an `_id` longer than this many UTF-8 bytes (and an empty one). */
export const MAX_ID_BYTES = 512;

/** A record ready to go: its two NDJSON lines, serialized once, and their size in the request. */
interface Operation<T> {
  item: BulkItem<T>;
  lines: string;
  bytes: number;
}

/**
 * Indexes documents with `_bulk`, the caller's `_id` making a replay overwrite instead of
 * duplicate. Gives every record exactly one outcome: indexed, rejected for a fault of its own
 * (dead-letter it with Elasticsearch's error type and reason), or not now (Elasticsearch is
 * overloaded, unreachable or not taking documents: send it again later). Never throws.
 *
 * What can be known before sending is checked first, so one bad record cannot make Elasticsearch
 * refuse a whole request: an `_id` it cannot take, a document larger than a request may be.
 * Records are sent in requests under `maxRequestBytes`. A request refused as a whole for its
 * content (400, 413) is split in halves until the offending record is alone, and only that
 * record is rejected: the others land.
 */
export async function writeDocuments<T>(client: Client, items: readonly BulkItem<T>[], options: WriteOptions = {}): Promise<WriteOutcome<T>> {
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const outcome: WriteOutcome<T> = { indexed: [], retriable: [], rejected: [] };
  const requests: Operation<T>[][] = [];
  let request: Operation<T>[] = [];
  let requestBytes = 0;
  for (const item of items) {
    const prepared = prepareOperation(item, maxRequestBytes);
    if ('reason' in prepared) {
      outcome.rejected.push(prepared);
      continue;
    }
    if (request.length > 0 && requestBytes + prepared.bytes > maxRequestBytes) {
      requests.push(request);
      request = [];
      requestBytes = 0;
    }
    request.push(prepared);
    requestBytes += prepared.bytes;
  }
  if (request.length > 0) requests.push(request);
  for (const operations of requests) await sendSplittingRefused(client, operations, outcome, options.signal);
  return outcome;
}

function prepareOperation<T>(item: BulkItem<T>, maxRequestBytes: number): Operation<T> | ItemFailure<T> {
  const idBytes = Buffer.byteLength(item.id);
  if (idBytes === 0 || idBytes > MAX_ID_BYTES) {
    return {
      item,
      status: 400,
      type: 'invalid_document_id',
      reason: `the document id is ${idBytes === 0 ? 'empty' : `${idBytes} bytes long`}: Elasticsearch takes ids of 1 to ${MAX_ID_BYTES} bytes`,
    };
  }
  let lines: string;
  try {
    lines = `${JSON.stringify({ index: { _index: item.index, _id: item.id } })}\n${JSON.stringify(item.document)}`;
  } catch (err) {
    return { item, status: 0, type: 'serialization_error', reason: `serializing the document: ${(err as Error).message}` };
  }
  // The serializer ends each entry with a newline.
  const bytes = Buffer.byteLength(lines) + 1;
  if (bytes > maxRequestBytes) {
    return {
      item,
      status: 413,
      type: 'document_too_large',
      reason: `the document is ${bytes} bytes as JSON, over the ${maxRequestBytes} bytes one _bulk request may carry`,
    };
  }
  return { item, lines, bytes };
}

/** One request; when refused as a whole for its content, its halves, recursively. */
async function sendSplittingRefused<T>(client: Client, operations: Operation<T>[], outcome: WriteOutcome<T>, signal: AbortSignal | undefined): Promise<void> {
  let items: estypes.BulkResponseItem[];
  try {
    const response = await client.bulk({ operations: operations.map((operation) => operation.lines), refresh: false }, signal ? { signal } : {});
    items = response.items.map((entry) => entry.index ?? (Object.values(entry)[0] as estypes.BulkResponseItem));
  } catch (err) {
    const failure = requestFailure(err);
    if (failure.condition !== undefined || signal?.aborted) {
      for (const { item } of operations) outcome.retriable.push({ item, ...failure, condition: failure.condition ?? 'unreachable' });
    } else if (operations.length === 1) {
      outcome.rejected.push({ item: (operations[0] as Operation<T>).item, ...failure });
    } else {
      const half = Math.ceil(operations.length / 2);
      await sendSplittingRefused(client, operations.slice(0, half), outcome, signal);
      await sendSplittingRefused(client, operations.slice(half), outcome, signal);
    }
    return;
  }
  operations.forEach(({ item }, i) => {
    const result = items[i];
    const status = result?.status ?? 0;
    if (status >= 200 && status < 300) {
      outcome.indexed.push(item);
      return;
    }
    const type = result?.error?.type ?? (result ? 'unknown' : 'missing_item');
    const failure = { item, status, type, reason: result?.error?.reason ?? (result ? `status ${status}` : 'the response has no result for this document') };
    const condition = itemCondition(status, type);
    if (condition) outcome.retriable.push({ ...failure, condition });
    else outcome.rejected.push(failure);
  });
}

/** Item errors that say something about the index or the cluster, whatever their status, not about the document. */
const REFUSING_TYPES = new Set(['cluster_block_exception', 'index_closed_exception', 'index_not_found_exception', 'security_exception']);

function itemCondition(status: number, type: string): NotNowCondition | undefined {
  if (REFUSING_TYPES.has(type) || status === 401 || status === 403 || status === 404) return 'refusing';
  if (status === 0 || status === 408 || status === 429 || status >= 500) return 'overloaded';
  return undefined;
}

/**
 * A request that failed as a whole. `condition` is absent when the request's content was refused
 * (400, 413): one of its records is at fault, and splitting finds which.
 */
function requestFailure(err: unknown): { status: number; type: string; reason: string; condition?: NotNowCondition } {
  if (err instanceof errors.ResponseError) {
    const status = err.meta.statusCode ?? 0;
    const body = err.meta.body as { error?: { type?: string; reason?: string } | string } | string | undefined;
    const error = typeof body === 'object' ? body.error : undefined;
    const type = typeof error === 'object' && error.type ? error.type : `http_${status}`;
    const reason =
      typeof error === 'object' && error.reason
        ? error.reason
        : status === 413
          ? 'Elasticsearch refused the request as too large (413): the document alone is over its http.max_content_length'
          : `Elasticsearch answered ${status}`;
    if (status === 400 || status === 413) return { status, type, reason };
    const condition = status === 408 || status === 429 || status >= 500 ? 'overloaded' : 'refusing';
    return { status, type, reason, condition };
  }
  const error = err as { name?: string; message?: string; code?: string; retriable?: boolean };
  // The client's own failures (no connection, a timeout) and a credentials file that cannot be read.
  const condition = error.code === 'OF_SECRET_UNREADABLE' ? 'refusing' : 'unreachable';
  return { status: 0, type: error.code ?? error.name ?? 'Error', reason: error.message ?? String(err), condition };
}
