import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

describe('okta-forwarder normalize', () => {
  it('turns Okta NDJSON into activity documents, one per line, and reports the lines it cannot place', async () => {
    const input = join(tempDir(), 'events.ndjson');
    const fixture = join(PROJECT_ROOT, 'test', 'fixtures', 'okta-events', 'okta-api-events.ndjson');
    const events = readFileSync(fixture, 'utf8').trim().split('\n');
    writeFileSync(input, [events[0], '{"uuid": "x", "eventType": "user.session.start"}', 'not json', events[1], ''].join('\n'));

    const result = await runCli(['normalize', input, '--org', 'acme']);
    expect(result.code).toBe(1);
    const documents = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { metadata: { uid: string; tenant_uid: string }; class_uid: number });
    expect(documents.map((d) => d.metadata.uid)).toEqual([JSON.parse(events[0]!).uuid, JSON.parse(events[1]!).uuid]);
    expect(documents.every((d) => d.metadata.tenant_uid === 'acme' && typeof d.class_uid === 'number')).toBe(true);
    expect(result.stderr).toMatch(/^line 2: .*published.*\(the sink dead-letters this event\)$/m);
    expect(result.stderr).toMatch(/^line 3: not JSON/m);
  });
});
