/**
 * Writes test/fixtures/hostile/<class>.ndjson (every variant of the class, applied to the first
 * real fixture event, one per line) and test/fixtures/hostile/expectations.json (the name and the
 * normalization outcome of each line). Run with `npx tsx test/support/write-hostile-fixtures.ts`
 * after changing the variants in hostile-events.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../../src/simulator/random.js';
import { PROJECT_ROOT } from './cli.js';
import { baseEvents, HOSTILE_CLASSES, hostileEvent, hostileVariants } from './hostile-events.js';

const dir = join(PROJECT_ROOT, 'test', 'fixtures', 'hostile');
mkdirSync(dir, { recursive: true });
const random = new Random(8);
const base = baseEvents()[0] as Record<string, unknown>;
const expectations: Record<string, { line: number; name: string; normalize: string }[]> = {};
for (const hostileClass of HOSTILE_CLASSES) {
  const file = `${hostileClass}.ndjson`;
  const lines = hostileVariants(hostileClass).map(({ name }) => hostileEvent(hostileClass, name, base, random, random.uuid()));
  writeFileSync(join(dir, file), `${lines.map(({ event }) => (typeof event === 'string' ? event : JSON.stringify(event))).join('\n')}\n`);
  expectations[file] = lines.map(({ name, normalize }, index) => ({ line: index + 1, name, normalize }));
}
writeFileSync(join(dir, 'expectations.json'), `${JSON.stringify(expectations, null, 2)}\n`);
