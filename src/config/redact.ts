import type { ForwarderConfig } from './load.js';
import { settings } from './reference.js';

const MASK = '[Sensitive]';

/** Dotted paths of every setting declared `sensitive` in the schema. */
export const SENSITIVE_PATHS: readonly string[] = settings()
  .filter(([, setting]) => setting.sensitive === true)
  .map(([path]) => path);

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
