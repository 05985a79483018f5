import type { OktaEventCodec } from '../avro/index.js';
import { jsonArrayItemTexts } from '../avro/json-parse.js';
import { encodeOrReject, type EncodedEvent, type RejectedItem } from '../kafka/messages.js';
import { readPageItems } from '../okta/page-body.js';

/** A System Log page ready for Kafka. */
export interface EncodedPage {
  /** Items in the page as Okta sent it, events or not: a full page means more is waiting. */
  items: number;
  events: EncodedEvent[];
  /** Items that cannot be event records, as JSON text with the reason; they are dead-lettered, never dropped. */
  rejected: RejectedItem[];
}

/**
 * An EncodedPage as it crosses from the encoder thread: every Avro value in one transferable
 * buffer (`ends[i]` is where value i ends), so the page moves without a copy per event.
 */
export interface TransferablePage {
  items: number;
  events: Omit<EncodedEvent, 'value'>[];
  values: Uint8Array;
  ends: Uint32Array;
  rejected: RejectedItem[];
}

/**
 * Parses a page body and encodes each event as Avro. Throws PageBodyError when the body is not a
 * JSON array. `onCounted` hears the number of items as soon as the body is parsed.
 */
export function encodePageBody(body: Buffer, contentType: string, codec: OktaEventCodec, onCounted?: (items: number) => void): TransferablePage {
  const items = readPageItems(body, contentType);
  onCounted?.(items.length);
  const events: Omit<EncodedEvent, 'value'>[] = [];
  const values: Buffer[] = [];
  const rejected: RejectedItem[] = [];
  // The text of each item as Okta sent it, found only if an item needs it (see encodeOrReject).
  let itemTexts: string[] | undefined;
  const itemText = (index: number) => (itemTexts ??= jsonArrayItemTexts(body.toString('utf8')))[index]!;
  for (let i = 0; i < items.length; i++) {
    const outcome = encodeOrReject(items[i], () => itemText(i), codec);
    if ('rejected' in outcome) {
      rejected.push(outcome.rejected);
      continue;
    }
    const { value, ...record } = outcome.event;
    values.push(value);
    events.push(record);
  }
  let total = 0;
  for (const value of values) total += value.length;
  // Its own ArrayBuffer (never Node's shared pool), so that it can be transferred.
  const all = Buffer.allocUnsafeSlow(total);
  const ends = new Uint32Array(values.length);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    at += values[i]!.copy(all, at);
    ends[i] = at;
  }
  return { items: items.length, events, values: all, ends, rejected };
}

/** Back to one Buffer per event; the values share the page's buffer. */
export function fromTransferable(page: TransferablePage): EncodedPage {
  const values = Buffer.from(page.values.buffer, page.values.byteOffset, page.values.byteLength);
  let start = 0;
  const events = page.events.map((event, i) => {
    const end = page.ends[i]!;
    const encoded: EncodedEvent = { ...event, value: values.subarray(start, end) };
    start = end;
    return encoded;
  });
  return { items: page.items, events, rejected: page.rejected };
}
