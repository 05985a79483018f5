/**
 * What Elasticsearch (8.x, with the template of src/elasticsearch/template.ts) refuses in a
 * document, as numbers that normalization keeps inside. Each was measured against a real
 * Elasticsearch (test/integration/normalize-hostile.test.ts indexes every repaired case);
 * test/unit/prepare-activity.test.ts keeps the template's values equal to these.
 */

/** `_id`: at most 512 bytes of UTF-8, not empty (`action_request_validation_exception` for the whole `_bulk`). */
export const MAX_ID_BYTES = 512;

/** The template's `unmapped` flattened `depth_limit`: object levels, the `unmapped` object itself being level 1. */
export const UNMAPPED_DEPTH_LIMIT = 40;

/** The template's `unmapped` flattened `ignore_above`, in UTF-16 code units: longer values are kept in _source, not indexed. */
export const UNMAPPED_IGNORE_ABOVE = 8191;

/** Lucene's longest term. A flattened leaf is indexed as the term `<dotted key path>\0<value>`. */
const MAX_TERM_BYTES = 32766;

/**
 * The longest dotted key path (UTF-8 bytes) under `unmapped` that always leaves room for an
 * indexed value: at most UNMAPPED_IGNORE_ABOVE code units of at most 3 bytes each, and the `\0`.
 * A longer path makes Elasticsearch refuse the document ("one immense field whose keyed encoding
 * is longer than the allowed max length").
 */
export const MAX_UNMAPPED_PATH_BYTES = MAX_TERM_BYTES - 1 - UNMAPPED_IGNORE_ABOVE * 3;

/**
 * Times `date` fields can hold as `strict_date_optional_time`: years 0000 to 9999 (JavaScript
 * writes other years as `+010000-…` or `-000001-…`, which Elasticsearch refuses).
 */
export const MIN_TIME_MS = Date.parse('0000-01-01T00:00:00.000Z');
export const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');
