import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fitsLimit, OVERSIZED_BODY_BYTES, oversizedDeadLetter, packWithinLimit, recordBytes } from '../../src/kafka/record-limits.js';

const record = (bytes: number, key = 'k') => ({ key, value: Buffer.alloc(bytes, 7), headers: { org: 'acme', eventType: 'user.session.start' } });

describe('record limits', () => {
  it('bounds a record by its key, value and headers, never under what it carries', () => {
    const message = record(1000);
    expect(recordBytes(message)).toBeGreaterThanOrEqual(1000 + 1 + 'org'.length + 'acme'.length + 'eventType'.length + 'user.session.start'.length);
    expect(fitsLimit(record(1_000_000), 1_048_588)).toBe(true);
    expect(fitsLimit(record(1_048_588), 1_048_588)).toBe(false);
  });

  it('packs records into groups that each fit the limit, in order, one group when they all fit', () => {
    const small = Array.from({ length: 100 }, (_, i) => record(1000, `k${i}`));
    expect(packWithinLimit(small, 1_048_588)).toHaveLength(1);
    const big = Array.from({ length: 30 }, (_, i) => record(100_000, `k${i}`));
    const groups = packWithinLimit(big, 1_048_588);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.flat().map((m) => m.key)).toEqual(big.map((m) => m.key));
    for (const group of groups) expect(group.reduce((sum, m) => sum + recordBytes(m), 61)).toBeLessThanOrEqual(1_048_588);
  });

  it('dead-letters an oversized record in a bounded form: first bytes, size, hash and reason, own headers kept', () => {
    const value = Buffer.alloc(3_000_000, 1);
    const letter = oversizedDeadLetter({ key: 'uuid-1', value, headers: { org: 'acme', published: '2026-01-01T00:00:00.000Z' } }, { topic: 'okta.system-log', limitBytes: 1_048_588, stage: 'poll' });
    expect((letter.value as Buffer).length).toBe(OVERSIZED_BODY_BYTES);
    expect(letter.headers).toMatchObject({
      org: 'acme',
      published: '2026-01-01T00:00:00.000Z',
      stage: 'poll',
      'error.type': 'record_too_large',
      'original.size': '3000000',
      'original.sha256': createHash('sha256').update(value).digest('hex'),
      truncated: 'true',
    });
    expect(String(letter.headers?.reason)).toMatch(/more than okta\.system-log accepts \(max\.message\.bytes 1048588\)/);
    expect(fitsLimit(letter, 1_048_588)).toBe(true);
    // A header that is itself huge is bounded too.
    const hugeHeader = oversizedDeadLetter({ key: null, value: Buffer.alloc(10), headers: { eventType: 'x'.repeat(2_000_000) } }, { topic: 't', limitBytes: 1_048_588, stage: 'poll' });
    expect(fitsLimit(hugeHeader, 1_048_588)).toBe(true);
  });
});
