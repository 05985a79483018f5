import { ForwarderError } from '../errors.js';
import { RETRY_POLICIES, retrying, type RetryingOptions, type RetryPolicy } from '../retry.js';
import type { ConfluentSchemaResolver } from './okta-event-codec.js';
import { confluentSchemaId } from './wire-format.js';

/** What a registry says about one schema id: its schema (JSON text or parsed), or why there is none. */
export type SchemaLookup = { readonly found: true; readonly schema: string | object } | { readonly found: false; readonly reason: string };

/** An id the registry did not know is asked about again after this long, not for every record that carries it. */
const MISSING_RETRY_MS = 60_000;

export interface PrefetchOptions {
  /** Ends the waiting (the sink stops, or the batch is no longer its own): prefetch() then rejects with RetryAborted. */
  signal?: AbortSignal;
  /** The wait between attempts; tests make it instant. */
  sleep?: RetryingOptions['sleep'];
  /** Before each wait: why, the ids still unresolved, the attempt (1 for the first retry), the wait. */
  onRetry: (error: Error, ids: number[], attempt: number, waitMs: number) => void;
  /** Instead of the policies by failure (an unreachable registry, or one that needs an operator); tests make retries instant. */
  retry?: RetryPolicy;
  random?: () => number;
}

/**
 * The writer schemas of Confluent-framed records, learned from a schema registry ahead of
 * decoding, because decoding is synchronous and a registry is not. Lifecycle, per chunk of
 * records: `unresolved(values)` lists the ids the chunk needs that are not known yet;
 * `learn(ids)` looks them up (one request per id, however many chunks ask at once); then the
 * codec, created with `confluentSchemas: cache.resolve`, decodes the chunk synchronously.
 * `prefetch(values)` does the first two until every id is resolved, waiting between tries.
 *
 * A schema found is kept forever: a registry id always names the same schema. An id the registry
 * has no schema for is remembered as missing (resolve throws with the reason, so the record is a
 * decode failure) and asked about again after a minute. A lookup that fails (registry down,
 * refused) makes `learn` reject and leaves the id unresolved: the caller waits and tries again.
 */
export class ConfluentSchemaCache {
  private readonly schemas = new Map<number, string | object>();
  private readonly missing = new Map<number, { reason: string; atMs: number }>();
  private readonly lookups = new Map<number, Promise<void>>();
  private readonly now: () => number;
  private readonly missingRetryMs: number;

  constructor(
    private readonly lookup: (id: number) => Promise<SchemaLookup>,
    options: { now?: () => number; missingRetryMs?: number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.missingRetryMs = options.missingRetryMs ?? MISSING_RETRY_MS;
  }

  /** For the codec: the schema of a learned id; throws the reason for a missing one; undefined for an id never looked up. */
  readonly resolve: ConfluentSchemaResolver = (id) => {
    const schema = this.schemas.get(id);
    if (schema !== undefined) return schema;
    const missing = this.missing.get(id);
    if (missing) throw new Error(missing.reason);
    return undefined;
  };

  /** The distinct schema ids of the Confluent records among `values` that are neither known nor recently found missing. */
  unresolved(values: Iterable<Uint8Array | null | undefined>): number[] {
    const ids = new Set<number>();
    const now = this.now();
    for (const value of values) {
      const id = confluentSchemaId(value);
      if (id === undefined || ids.has(id) || this.schemas.has(id)) continue;
      const missing = this.missing.get(id);
      if (missing && now - missing.atMs < this.missingRetryMs) continue;
      ids.add(id);
    }
    return [...ids];
  }

  /**
   * Resolves every Confluent schema id among `values`: looks up the unresolved ones until each is
   * known or missing. While lookups fail it waits and tries again, without end: an unreachable
   * registry (retriable errors) with RETRY_POLICIES.unreachable, one that refuses (credentials,
   * rights, a wrong URL) with RETRY_POLICIES.needsOperator. Rejects only when its signal ends the waiting.
   */
  async prefetch(values: readonly (Uint8Array | null | undefined)[], options: PrefetchOptions): Promise<void> {
    let ids: number[] = [];
    await retrying(
      async () => {
        ids = this.unresolved(values);
        if (ids.length > 0) await this.learn(ids);
      },
      {
        what: 'looking up Confluent schema ids',
        policy: options.retry ?? ((err) => (err instanceof ForwarderError && err.retriable ? RETRY_POLICIES.unreachable : RETRY_POLICIES.needsOperator)),
        retriable: () => true,
        onRetry: (err, attempt, waitMs) => options.onRetry(err instanceof Error ? err : new Error(String(err)), ids, attempt, waitMs),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.random ? { random: options.random } : {}),
      },
    );
  }

  /** Looks each id up; settles when every lookup has, and rejects with the first lookup's error, if any. */
  async learn(ids: readonly number[]): Promise<void> {
    const results = await Promise.allSettled(ids.map((id) => this.learnOne(id)));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  private learnOne(id: number): Promise<void> {
    const inFlight = this.lookups.get(id);
    if (inFlight) return inFlight;
    const lookup = (async () => {
      // The wire format holds a signed integer; registries hand out positive ids only.
      const result: SchemaLookup = id < 0 ? { found: false, reason: `schema id ${id} is negative, which no schema registry hands out` } : await this.lookup(id);
      if (result.found) {
        this.schemas.set(id, result.schema);
        this.missing.delete(id);
      } else {
        this.missing.set(id, { reason: result.reason, atMs: this.now() });
      }
    })().finally(() => this.lookups.delete(id));
    this.lookups.set(id, lookup);
    return lookup;
  }
}
