import { describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { ACTIVITY_MAPPINGS } from '../../src/elasticsearch/template.js';
import { MAX_ID_BYTES, UNMAPPED_DEPTH_LIMIT, UNMAPPED_IGNORE_ABOVE } from '../../src/normalize/document-limits.js';
import { prepareActivity, type ActivityAction } from '../../src/normalize/index.js';
import { fixtureEvents } from '../support/fixtures.js';

// prepareActivity is what both the sink and the `normalize` preview run: one rule for the index,
// the `_id` and the document, or one rejection with its reason.

const OPTIONS = { org: 'acme.okta.com', indexPrefix: 'okta-activity' };
const base = fixtureEvents()[0] as Record<string, unknown>;

const prepared = (event: unknown): ActivityAction => {
  const result = prepareActivity(event, OPTIONS);
  if (!result.ok) throw new Error(`expected a document, got a rejection: ${result.reason}`);
  return result;
};

const HASH_ID = /^[A-Za-z0-9_-]{43}$/;

describe('prepareActivity', () => {
  it('gives the index of the event day, the uuid as _id, and the document', () => {
    const action = prepared(base);
    expect(action.index).toBe(`okta-activity-${(base.published as string).slice(0, 10).replaceAll('-', '.')}`);
    expect(action.id).toBe(base.uuid);
    expect(action.document).toMatchObject({ metadata: { uid: base.uuid, tenant_uid: 'acme.okta.com' } });
    expect(action.document).not.toHaveProperty('metadata.labels');
  });

  it('turns what it cannot place into a rejection with stage, reason and error type, never an exception', () => {
    expect(prepareActivity({ ...base, published: '9999-12-31T23:30:00-01:00' }, OPTIONS)).toEqual({
      ok: false,
      stage: 'normalize',
      reason: expect.stringMatching(/^normalizing Okta event .*: "published" "9999-12-31T23:30:00-01:00" is outside the years 0000 to 9999/) as string,
      errorType: 'OF_NORMALIZE',
    });
    for (const notAnEvent of [null, 42, 'text', [base]]) {
      expect(prepareActivity(notAnEvent, OPTIONS)).toMatchObject({ ok: false, stage: 'normalize', errorType: 'OF_NORMALIZE' });
    }
    expect(prepareActivity({ ...base, uuid: 'u'.repeat(100_000), published: undefined }, OPTIONS)).toMatchObject({ ok: false, reason: expect.stringMatching(/^.{1,300}$/) as string });
  });

  describe('the id rule', () => {
    const unusable: [string, unknown][] = [
      ['missing', undefined],
      ['null', null],
      ['"null"', 'null'],
      ['empty', ''],
      ['whitespace', ' \t\n'],
      ['a number', 42],
      ['an object', { id: 'x' }],
      ['513 bytes', 'u'.repeat(513)],
      ['513 bytes of UTF-8 in 171 characters', `${'€'.repeat(170)}uuu`],
      ['a lone surrogate', 'abc\ud800'],
    ];

    it.each(unusable)('hashes the event when its uuid is %s, and keeps the uuid in unmapped.uuid', (_, uuid) => {
      const event = { ...base, uuid };
      if (uuid === undefined) delete event.uuid;
      const action = prepared(event);
      expect(action.id).toMatch(HASH_ID);
      expect((action.document.metadata as Record<string, unknown>).uid).toBe(action.id);
      expect((action.document.metadata as Record<string, unknown>).labels).toEqual(['uuid_unusable']);
      if (uuid !== undefined && uuid !== null) expect((action.document.unmapped as Record<string, unknown>).uuid).toEqual(uuid);
    });

    it('takes a uuid of exactly 512 bytes, and any other text Elasticsearch can store', () => {
      for (const uuid of ['u'.repeat(512), `${'€'.repeat(170)}uu`, ' padded ', 'NULL', '_underscore', 'a\u0000b']) {
        expect(prepared({ ...base, uuid }).id).toBe(uuid);
      }
    });

    it('gives two different events with uuid "null" two ids, and the same event the same id every time', () => {
      const first = prepared({ ...base, uuid: 'null', displayMessage: 'first' });
      const second = prepared({ ...base, uuid: 'null', displayMessage: 'second' });
      expect(first.id).not.toBe(second.id);
      expect(prepared({ ...base, uuid: 'null', displayMessage: 'first' }).id).toBe(first.id);
      // Key order is not content: the canonical text sorts keys.
      const reordered = Object.fromEntries(Object.entries({ ...base, uuid: 'null', displayMessage: 'first' }).reverse());
      expect(prepared(reordered).id).toBe(first.id);
    });

    it('gives the preview (the event as JSON) and the sink (the same event decoded from Avro) the same id', () => {
      const codec = createOktaEventCodec();
      for (const uuid of [undefined, 'null', '', 'u'.repeat(600)]) {
        const event = { ...base, uuid, debugContext: { debugData: { nested: { list: [1, '-0', 'x', null] } } } };
        if (uuid === undefined) delete event.uuid;
        // The line as a file holds it (JSON.stringify would write -0 as 0), as the preview reads it.
        const line = JSON.stringify(event).replace('"-0"', '-0');
        const preview = prepared(JSON.parse(line));
        const sink = prepared(codec.decode(codec.encode(JSON.parse(line) as Record<string, unknown>)));
        expect(sink.id).toBe(preview.id);
        expect(sink.document).toEqual(preview.document);
      }
    });
  });

  it('keeps its limits equal to the index template it writes for', () => {
    const unmapped = ACTIVITY_MAPPINGS.properties.unmapped;
    expect(unmapped.type).toBe('flattened');
    expect(unmapped.depth_limit).toBe(UNMAPPED_DEPTH_LIMIT);
    expect(unmapped.ignore_above).toBe(UNMAPPED_IGNORE_ABOVE);
    expect(MAX_ID_BYTES).toBe(512);
  });
});
