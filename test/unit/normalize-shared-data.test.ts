import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ForwarderError } from '../../src/errors.js';
import { normalizeEvent } from '../../src/normalize/index.js';
import { normalizeEventTraced } from '../../src/normalize/normalize-event.js';
import { leaves } from '../../src/normalize/leaf-paths.js';
import { parsePublished } from '../../src/normalize/published-time.js';
import { isIpAddress, isNoData } from '../../src/normalize/values.js';
import { PROJECT_ROOT } from '../support/cli.js';

// Conformance over the real Okta events of ../shared/data (see its SOURCES.md). The project's own
// tests must pass without that folder, so this suite is skipped when it is absent.
const DIR = join(PROJECT_ROOT, '..', 'shared', 'data', 'okta-events');
const ORG = 'acme.okta.com';

const events = existsSync(DIR)
  ? readdirSync(DIR)
      .filter((file) => file.endsWith('.ndjson'))
      .flatMap((file) =>
        readFileSync(join(DIR, file), 'utf8')
          .split('\n')
          .map((text, index) => ({ name: `${file}:${index + 1}`, text }))
          .filter(({ text }) => text.trim() !== '')
          .map(({ name, text }) => ({ name, event: JSON.parse(text) as Record<string, unknown> })),
      )
  : [];

const str = (value: unknown): string | undefined => (typeof value === 'string' && !isNoData(value) && value !== '' ? value : undefined);
const at = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined), value);

describe.skipIf(!existsSync(DIR))('normalization of the shared real Okta events', () => {
  it('finds events to check', () => {
    expect(events.length).toBeGreaterThan(50);
  });

  it.each(events.map((e) => [e.name, e.event] as const))('%s', (_, event) => {
    const published = parsePublished(event.published);
    if (!published.ok) {
      // The documented dead-letter path: no usable `published`.
      expect(() => normalizeEvent(event, { org: ORG })).toThrow(ForwarderError);
      return;
    }
    const { document: doc, consumedPaths } = normalizeEventTraced(event, { org: ORG });

    // Expectations computed from the event itself.
    const eventType = str(event.eventType);
    const known = eventType !== undefined && (doc.class_uid as number) !== 0;
    expect(doc.type_uid).toBe((doc.class_uid as number) * 100 + (doc.activity_id as number));
    if (!known) expect([doc.class_uid, doc.activity_id]).toEqual([0, 99]);
    if (eventType === 'user.session.start') expect([doc.class_uid, doc.activity_id]).toEqual([3002, 1]);
    if (eventType === 'user.session.end') expect([doc.class_uid, doc.activity_id]).toEqual([3002, 2]);
    if (eventType?.startsWith('group.user_membership.')) expect(doc.class_uid).toBe(3006);
    expect(at(doc, 'actor', 'user', 'uid')).toBe(str(at(event, 'actor', 'id')));
    // Source IP: client.ipAddress when it is an IP, else the first hop of request.ipChain.
    const firstHop = (event.request as { ipChain?: { ip?: unknown }[] } | undefined)?.ipChain?.[0]?.ip;
    const sourceIp = [str(at(event, 'client', 'ipAddress')), str(firstHop)].find((ip) => ip !== undefined && isIpAddress(ip));
    expect(at(doc, 'src_endpoint', 'ip')).toBe(sourceIp);
    const result = str(at(event, 'outcome', 'result'));
    expect(doc.status_id).toBe(result === undefined ? 0 : result === 'SUCCESS' ? 1 : result === 'FAILURE' || result === 'DENY' ? 2 : 99);
    expect(doc.time).toBe(published.epochMs);
    expect(at(doc, 'metadata', 'original_time')).toBe(event.published);

    // No field disappears: consumed (and reproduced) or kept under `unmapped` at the same path.
    const consumed = new Set(consumedPaths.map((path) => JSON.stringify(path)));
    const isConsumed = (path: readonly (string | number)[]): boolean => path.some((_, end) => consumed.has(JSON.stringify(path.slice(0, end + 1))));
    const { unmapped, ...mapped } = doc;
    const mappedTexts = new Set(leaves(mapped).map((leaf) => String(leaf.value).toLowerCase()));
    for (const leaf of leaves(event)) {
      if (isNoData(leaf.value)) continue;
      if (isConsumed(leaf.path)) expect(mappedTexts.has(String(leaf.value).toLowerCase()), JSON.stringify(leaf.path)).toBe(true);
      else {
        const kept = leaf.path.reduce<unknown>((v, step) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[step] : undefined), unmapped);
        expect(Object.is(kept, leaf.value), `${JSON.stringify(leaf.path)} kept under unmapped`).toBe(true);
      }
    }
  });

  it("repairs Okta's own documentation example (2017-09-31) to 2017-10-01 and labels it", () => {
    const example = events.find((e) => e.name.startsWith('okta-docs-example'));
    const doc = normalizeEvent(example!.event, { org: ORG });
    expect(doc['@timestamp']).toBe('2017-10-01T22:23:07.777Z');
    expect(at(doc, 'metadata', 'labels')).toEqual(['published_repaired']);
  });

  it('dead-letters exactly the events without a published time', () => {
    const refused = events.filter((e) => !parsePublished(e.event.published).ok);
    expect(refused.map((e) => e.event.published)).toEqual(refused.map(() => undefined));
  });
});
