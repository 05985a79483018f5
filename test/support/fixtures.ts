import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './cli.js';

export const FIXTURE_EVENTS_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'okta-events');

/** Every Okta event of the project's fixtures (test/fixtures/okta-events/*.ndjson), in file and line order. */
export function fixtureEvents(): Record<string, unknown>[] {
  return readdirSync(FIXTURE_EVENTS_DIR)
    .filter((file) => file.endsWith('.ndjson'))
    .flatMap((file) => readFileSync(join(FIXTURE_EVENTS_DIR, file), 'utf8').split('\n'))
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
