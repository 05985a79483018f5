import { ForwarderError } from '../errors.js';
import { indexFor } from './index-name.js';
import { normalizeEventTraced, type ActivityDocument, type NormalizeOptions } from './normalize-event.js';
import { isPlainObject } from './values.js';

export interface PrepareOptions extends NormalizeOptions {
  /** `elasticsearch.indexPrefix`: documents go to `<prefix>-YYYY.MM.DD`. */
  indexPrefix: string;
}

/** What is sent to Elasticsearch for one event: an `index` action and its document. */
export interface ActivityAction {
  ok: true;
  index: string;
  /** The `_id`: the Okta uuid, or a hash of the event when its uuid is unusable (see eventId). */
  id: string;
  document: ActivityDocument;
}

/** An event that cannot become a document; the sink dead-letters it with these as headers. */
export interface ActivityRejection {
  ok: false;
  stage: 'normalize';
  reason: string;
  /** OF_NORMALIZE, or normalize_error for a failure normalization did not foresee. */
  errorType: string;
}

/**
 * The one way from a decoded Okta event to what lands in Elasticsearch, used by the sink and by the
 * `normalize` preview alike, so that the preview shows exactly what the sink sends. Every document
 * it returns is one the index template takes (test/integration/normalize-hostile.test.ts proves
 * it against Elasticsearch for every hostile case); what it cannot place is a rejection with its
 * reason, never an exception: one event's fault never stops the others.
 */
export function prepareActivity(event: unknown, options: PrepareOptions): ActivityAction | ActivityRejection {
  if (!isPlainObject(event)) return rejection('normalizing an Okta event: the event is not a JSON object', 'OF_NORMALIZE');
  try {
    const { document, id } = normalizeEventTraced(event, options);
    return { ok: true, index: indexFor(options.indexPrefix, document), id, document };
  } catch (error) {
    if (error instanceof ForwarderError) return rejection(error.message, error.code);
    return rejection(`normalizing an Okta event: unexpected failure: ${(error as Error).message}`, 'normalize_error');
  }
}

function rejection(reason: string, errorType: string): ActivityRejection {
  return { ok: false, stage: 'normalize', reason, errorType };
}
