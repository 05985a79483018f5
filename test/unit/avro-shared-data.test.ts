import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { PROJECT_ROOT } from '../support/cli.js';

// Real Okta System Log events collected beside the project (see its SOURCES.md); absent from a
// plain clone, where the project's own fixtures stand in.
const dir = join(PROJECT_ROOT, '..', 'shared', 'data', 'okta-events');

describe.skipIf(!existsSync(dir))('Okta event Avro codec on the real events in ../shared/data/okta-events', () => {
  const codec = createOktaEventCodec();
  const files = existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.ndjson')) : [];

  it('finds event files to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('gives back exactly every event of %s', (file) => {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    lines.forEach((line, index) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      expect({ line: index + 1, event: codec.decode(codec.encode(event)) }).toStrictEqual({ line: index + 1, event });
    });
  });
});
