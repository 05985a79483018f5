import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createOktaEventCodec } from '../../src/avro/index.js';
import { PageBodyError } from '../../src/okta/page-body.js';
import { PageEncoder } from '../../src/poller/page-encoder.js';
import { encodePageBody, fromTransferable } from '../../src/poller/page-encoding.js';
import { fixtureEvents } from '../support/fixtures.js';

const codec = createOktaEventCodec();
/** Every page on the thread, however small. */
const ON_THREAD = { inlineBelowBytes: 0 };
const body = (value: unknown) => Buffer.from(JSON.stringify(value));
/** The fixtures as a page body carries them (JSON text: a -0 among the quirks arrives as 0). */
const sentEvents = () => JSON.parse(JSON.stringify(fixtureEvents())) as Record<string, unknown>[];

describe('encoding a System Log page', () => {
  it('gives one record per event, lossless, with key, eventType and published taken from the event', () => {
    const events = sentEvents();
    const page = fromTransferable(encodePageBody(body(events), 'application/json', codec));
    expect(page.items).toBe(events.length);
    expect(page.rejected).toEqual([]);
    expect(page.events.map((event) => codec.decode(event.value))).toEqual(events);
    page.events.forEach((encoded, i) => {
      const event = events[i]!;
      expect(encoded.key).toBe(typeof event.uuid === 'string' ? event.uuid : null);
      expect(encoded.eventType).toBe(typeof event.eventType === 'string' ? event.eventType : undefined);
      expect(encoded.published).toBe(typeof event.published === 'string' ? event.published : undefined);
    });
  });

  it('keeps items that are not events, as JSON text with the reason, and counts every item', () => {
    const counted: number[] = [];
    const page = fromTransferable(encodePageBody(body([{ uuid: 'a' }, 42, null, ['x'], 'text', { uuid: 'b' }]), 'application/json', codec, (n) => counted.push(n)));
    expect(counted).toEqual([6]);
    expect(page.items).toBe(6);
    expect(page.events.map((event) => event.key)).toEqual(['a', 'b']);
    expect(page.rejected).toEqual(['42', 'null', '["x"]', '"text"'].map((json) => ({ json, reason: 'not a JSON object' })));
  });

  it('says what the body is when it is not a JSON array', () => {
    expect(() => encodePageBody(Buffer.from('<html><title>Okta is down</title></html>'), 'text/html', codec)).toThrow(
      new PageBodyError('a body that is not JSON (an HTML page titled "Okta is down")'),
    );
    expect(() => encodePageBody(body({ errorCode: 'E0000001' }), 'application/json', codec)).toThrow(new PageBodyError('JSON that is not an array of events'));
  });
});

describe('the page encoder thread', () => {
  let encoder: PageEncoder | undefined;
  afterEach(async () => {
    await encoder?.close();
    encoder = undefined;
  });

  it('encodes pages on its thread exactly as the codec does, counting items first', async () => {
    encoder = new PageEncoder({}, ON_THREAD);
    const events = sentEvents();
    const counts: number[] = [];
    const pages = await Promise.all([encoder.encode(body(events), 'application/json', (n) => counts.push(n)), encoder.encode(body(events.slice(0, 3)), 'application/json')]);
    expect(counts).toEqual([events.length]);
    expect(pages[0]!.events.map((event) => event.value)).toEqual(events.map((event) => codec.encode(event)));
    expect(pages[1]!.events.map((event) => codec.decode(event.value))).toEqual(events.slice(0, 3));
  });

  it('writes the Confluent wire format with the registry id it was given', async () => {
    encoder = new PageEncoder({ encodeWithConfluentId: 7 }, ON_THREAD);
    const [event] = sentEvents();
    const page = await encoder.encode(body([event]), 'application/json');
    expect([...page.events[0]!.value.subarray(0, 5)]).toEqual([0, 0, 0, 0, 7]);
    expect(page.events[0]!.value.subarray(5)).toEqual(createOktaEventCodec({ encodeWithConfluentId: 7 }).encode(event!).subarray(5));
  });

  it('rejects a body that is not JSON with PageBodyError, and keeps working', async () => {
    encoder = new PageEncoder({}, ON_THREAD);
    await expect(encoder.encode(Buffer.from('not json'), 'text/plain')).rejects.toThrow(PageBodyError);
    await expect(encoder.encode(Buffer.from('not json'), 'text/plain')).rejects.toThrow(/a body that is not JSON \(a text\/plain body starting "not json"\)/);
    expect((await encoder.encode(body([{ uuid: 'x' }]), 'application/json')).events[0]!.key).toBe('x');
  });

  it('fails the pages in flight with a retriable error when its thread dies, and starts a new thread for the next page', async () => {
    encoder = new PageEncoder({}, ON_THREAD);
    await encoder.encode(body([{ uuid: 'warm-up' }]), 'application/json');
    const thread = (encoder as unknown as { worker: Worker }).worker;
    // A page big enough (some 6,000 events) to be still in the thread when it is terminated.
    const inFlight = encoder.encode(body(Array.from({ length: 200 }, () => sentEvents()).flat()), 'application/json');
    await thread.terminate();
    await expect(inFlight).rejects.toMatchObject({ code: 'OF_AVRO_ENCODE', retriable: true, message: expect.stringMatching(/the encoder thread stopped .*fetched again/) });
    expect((await encoder.encode(body([{ uuid: 'after' }]), 'application/json')).events[0]!.key).toBe('after');
  });

  it('encodes a Buffer that shares its memory with others without detaching them', async () => {
    encoder = new PageEncoder({}, ON_THREAD);
    const shared = Buffer.from(`xx${JSON.stringify([{ uuid: 'shared' }])}yy`);
    const page = await encoder.encode(shared.subarray(2, shared.length - 2), 'application/json');
    expect(page.events[0]!.key).toBe('shared');
    expect(shared.toString().startsWith('xx[')).toBe(true);
  });

  it('encodes small pages on the calling thread, the same records and errors, and starts no thread for them', async () => {
    encoder = new PageEncoder({}, { inlineBelowBytes: 64 * 1024 });
    const events = sentEvents().slice(0, 5);
    const counts: number[] = [];
    const page = await encoder.encode(body(events), 'application/json', (n) => counts.push(n));
    expect(counts).toEqual([5]);
    expect(page.events.map((event) => event.value)).toEqual(events.map((event) => codec.encode(event)));
    await expect(encoder.encode(Buffer.from('not json'), 'text/plain')).rejects.toThrow(/a body that is not JSON \(a text\/plain body starting "not json"\)/);
    expect(encoder.threadRunning).toBe(false);
    // A page of 64 KiB or more goes to the thread.
    const large = Array.from({ length: 40 }, () => sentEvents()).flat();
    expect(body(large).byteLength).toBeGreaterThanOrEqual(64 * 1024);
    expect((await encoder.encode(body(large), 'application/json')).items).toBe(large.length);
    expect(encoder.threadRunning).toBe(true);
  });

  it('stops its thread when idle and starts it again for the next large page', async () => {
    encoder = new PageEncoder({}, { inlineBelowBytes: 0, idleStopMs: 50 });
    await encoder.encode(body([{ uuid: 'first' }]), 'application/json');
    const first = (encoder as unknown as { worker: Worker }).worker;
    const exited = new Promise((resolve) => first.once('exit', resolve));
    await exited;
    expect(encoder.threadRunning).toBe(false);
    expect((await encoder.encode(body([{ uuid: 'again' }]), 'application/json')).events[0]!.key).toBe('again');
    expect(encoder.threadRunning).toBe(true);
    expect((encoder as unknown as { worker: Worker }).worker).not.toBe(first);
  });
});
