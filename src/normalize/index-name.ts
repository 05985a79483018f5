import { ForwarderError } from '../errors.js';
import type { ActivityDocument } from './normalize-event.js';

/** The Elasticsearch index of a document: `${prefix}-YYYY.MM.DD` from its own `time` (UTC). */
export function indexFor(prefix: string, document: ActivityDocument): string {
  const time = document.time;
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new ForwarderError('OF_NORMALIZE', `choosing the index for an activity document: it has no numeric "time"`);
  }
  const day = new Date(time).toISOString().slice(0, 10).replaceAll('-', '.');
  return `${prefix}-${day}`;
}
