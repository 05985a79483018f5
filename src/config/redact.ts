import { CONFIG_SCHEMA } from './schema.js';
import type { ForwarderConfig } from './load.js';

const MASK = '[Sensitive]';

/** Dotted paths of every setting declared `sensitive` in the schema. */
export const SENSITIVE_PATHS: readonly string[] = collectSensitive(CONFIG_SCHEMA, '');

function collectSensitive(node: object, prefix: string): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (value === null || typeof value !== 'object') continue;
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if ('doc' in value) {
      if ((value as { sensitive?: boolean }).sensitive === true) paths.push(path);
    } else {
      paths.push(...collectSensitive(value, path));
    }
  }
  return paths;
}

/** A deep copy of the configuration that is safe to print or log: every sensitive value that is set is masked. */
export function redactConfig(config: ForwarderConfig): ForwarderConfig {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const path of SENSITIVE_PATHS) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    let parent: Record<string, unknown> | undefined = copy;
    for (const key of keys) parent = parent?.[key] as Record<string, unknown> | undefined;
    if (parent && parent[last] !== '' && parent[last] !== undefined) parent[last] = MASK;
  }
  return copy as unknown as ForwarderConfig;
}
