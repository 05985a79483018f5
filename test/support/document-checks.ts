import { ACTIVITY_MAPPINGS } from '../../src/elasticsearch/template.js';
import { fieldName, leaves } from '../../src/normalize/leaf-paths.js';

interface MappingNode {
  type?: string;
  properties?: Record<string, MappingNode>;
}

function mappedFieldNames(node: MappingNode, prefix = '', out = new Set<string>()): Set<string> {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (child.properties) mappedFieldNames(child, path, out);
    else out.add(path);
  }
  return out;
}

const MAPPED = mappedFieldNames(ACTIVITY_MAPPINGS as unknown as MappingNode);
const unmapped = ACTIVITY_MAPPINGS.properties.unmapped;

/**
 * What Elasticsearch, with the project's template, refuses in an index action, as measured against
 * a real Elasticsearch 8 (the integration test indexes the same documents for real). An empty list
 * means it would be accepted. Pure: for unit tests over many documents.
 */
export function elasticsearchObjections(action: { index: string; id: string; document: Record<string, unknown> }): string[] {
  const problems: string[] = [];
  const { id, document } = action;
  if (id === '' || Buffer.byteLength(id, 'utf8') > 512) problems.push(`_id of ${Buffer.byteLength(id, 'utf8')} bytes`);
  if (!(id as unknown as { isWellFormed(): boolean }).isWellFormed()) problems.push('_id with a lone surrogate');
  if (!/^[a-z0-9][a-z0-9._-]*-\d{4}\.\d{2}\.\d{2}$/.test(action.index)) problems.push(`index name ${action.index}`);
  const timestamp = document['@timestamp'];
  if (typeof timestamp !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(timestamp)) problems.push(`@timestamp ${String(timestamp)}`);
  if (typeof document.time !== 'number' || new Date(document.time).toISOString() !== timestamp) problems.push('time and @timestamp disagree');
  try {
    JSON.stringify(document);
  } catch (error) {
    return [...problems, `not serializable: ${(error as Error).message}`];
  }
  const { unmapped: rest, raw_data: raw, ...mapped } = document;
  if (raw !== undefined && typeof raw !== 'string') problems.push('raw_data is not text');
  for (const leaf of leaves(mapped)) {
    const name = fieldName(leaf.path);
    if (!MAPPED.has(name)) problems.push(`unmapped path ${name} (strict mapping)`);
    if (leaf.value === null || (typeof leaf.value === 'object' && leaf.value !== null)) problems.push(`${name} is null or empty`);
    if (typeof leaf.value === 'number' && !Number.isFinite(leaf.value)) problems.push(`${name} is not finite`);
  }
  if (rest !== undefined) problems.push(...flattenedObjections(rest));
  return problems;
}

/** What the `unmapped` flattened field refuses: depth, NUL in keys, terms over Lucene's limit; and what JSON cannot keep. */
function flattenedObjections(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['unmapped is not an object'];
  const problems: string[] = [];
  const pending: { value: unknown; objectDepth: number; depth: number; pathBytes: number }[] = [{ value, objectDepth: 1, depth: 1, pathBytes: -1 }];
  while (pending.length > 0) {
    const { value: at, objectDepth, depth, pathBytes } = pending.pop() as (typeof pending)[number];
    if (objectDepth > unmapped.depth_limit) problems.push(`unmapped deeper than ${unmapped.depth_limit}`);
    if (depth > 100) {
      problems.push('unmapped nested over 100 levels');
      continue;
    }
    const entries: [string | undefined, unknown][] = Array.isArray(at) ? at.map((item) => [undefined, item]) : Object.entries(at as object);
    for (const [key, item] of entries) {
      const itemPath = key === undefined ? pathBytes : (pathBytes < 0 ? 0 : pathBytes + 1) + Buffer.byteLength(key, 'utf8');
      if (key?.includes('\0')) problems.push('a key with \\0 in unmapped');
      if (typeof item === 'number' && !Number.isFinite(item)) problems.push('a non-finite number in unmapped');
      if (item === null && key !== undefined) problems.push('a null member in unmapped');
      if (typeof item === 'string' && item.length <= unmapped.ignore_above && itemPath + 1 + Buffer.byteLength(item, 'utf8') > 32766) {
        problems.push(`an unmapped term over 32766 bytes (path of ${itemPath} bytes)`);
      }
      if (typeof item === 'object' && item !== null) {
        pending.push({ value: item, objectDepth: Array.isArray(item) ? objectDepth : objectDepth + 1, depth: depth + 1, pathBytes: itemPath });
      }
    }
  }
  return problems;
}
