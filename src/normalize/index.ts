/**
 * Normalization: one Okta System Log LogEvent -> one OCSF activity document for Elasticsearch.
 * The mapping is documented field by field in docs/analysts.md; the classification
 * table is classification.ts, the value tables value-tables.ts, the `published` rule
 * published-time.ts, the `_id` rule event-id.ts, what Elasticsearch refuses document-limits.ts.
 * prepareActivity is the one entry point of the sink and the `normalize` preview. Pure functions:
 * no I/O.
 */
export { OCSF_VERSION } from './ocsf-version.js';
export { normalizeEvent, type ActivityDocument, type DocumentLabel, type NormalizeOptions } from './normalize-event.js';
export { prepareActivity, type ActivityAction, type ActivityRejection, type PrepareOptions } from './prepare-activity.js';
export { eventId, isUsableUuid } from './event-id.js';
export { indexFor } from './index-name.js';
export { CLASSIFICATION_TABLE, EVENT_CLASSES, classify } from './classification.js';
