/**
 * Avro codec throughput: encode and decode events/s and bytes per event for typical Okta events
 * (the API-shaped fixtures, each copy with its own uuid, time, ids and address), with
 * JSON.stringify / JSON.parse of the same events as the yardstick.
 *
 *   npx tsx bench/avro.ts [events]      (default 100000)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createOktaEventCodec } from '../src/avro/index.js';

type JsonObject = Record<string, unknown>;

const EVENTS = Number(process.argv[2] ?? 100_000);
/** Distinct events held in memory; the run cycles through them (100,000 live 2 KB events would measure the GC). */
const DISTINCT = Math.min(EVENTS, 10_000);
const ROUNDS = 3;

const fixtures = readFileSync(new URL('../test/fixtures/okta-events/okta-api-events.ndjson', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as JsonObject);

function variant(index: number): JsonObject {
  const event = structuredClone(fixtures[index % fixtures.length]!);
  const requestId = randomBytes(20).toString('base64url').slice(0, 27);
  event.uuid = randomUUID();
  event.published = new Date(Date.UTC(2024, 4, 14) + index * 137).toISOString();
  const transaction = event.transaction as JsonObject | null;
  if (transaction) transaction.id = requestId;
  const debugData = (event.debugContext as { debugData?: JsonObject } | null)?.debugData;
  if (debugData) debugData.requestId = requestId;
  const client = event.client as JsonObject | null;
  if (client?.ipAddress) client.ipAddress = `198.51.${index % 256}.${(index >> 8) % 256}`;
  return event;
}

/** Best of ROUNDS: events per second of `run` over EVENTS operations. */
function throughput(run: (index: number) => void): number {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < EVENTS; i++) run(i % DISTINCT);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return EVENTS / best;
}

const events = Array.from({ length: DISTINCT }, (_, i) => variant(i));
const codec = createOktaEventCodec();
const avroBytes = events.map((event) => codec.encode(event));
const jsonTexts = events.map((event) => JSON.stringify(event));
for (let i = 0; i < DISTINCT; i++) codec.decode(avroBytes[i]!); // warm-up

let sink = 0;
const rows = [
  {
    format: 'Avro single-object (lossless)',
    encode: throughput((i) => (sink += codec.encode(events[i]!).length)),
    decode: throughput((i) => (sink += codec.decode(avroBytes[i]!) === null ? 1 : 0)),
    bytes: avroBytes.reduce((sum, bytes) => sum + bytes.length, 0) / DISTINCT,
  },
  {
    format: 'JSON.stringify / JSON.parse',
    encode: throughput((i) => (sink += JSON.stringify(events[i]!).length)),
    decode: throughput((i) => (sink += JSON.parse(jsonTexts[i]!) === null ? 1 : 0)),
    bytes: jsonTexts.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / DISTINCT,
  },
];

const formatRate = (rate: number): string => Math.round(rate).toLocaleString('en-US');
console.log(`${EVENTS.toLocaleString('en-US')} events (${DISTINCT.toLocaleString('en-US')} distinct), best of ${ROUNDS}, one core; node ${process.version}, ${availableParallelism()} cores\n`);
console.log(['format'.padEnd(30), 'encode events/s'.padStart(16), 'decode events/s'.padStart(16), 'encode+decode/s'.padStart(16), 'bytes/event'.padStart(12)].join(' '));
for (const row of rows) {
  const both = 1 / (1 / row.encode + 1 / row.decode);
  console.log([row.format.padEnd(30), formatRate(row.encode).padStart(16), formatRate(row.decode).padStart(16), formatRate(both).padStart(16), row.bytes.toFixed(0).padStart(12)].join(' '));
}
if (sink === -1) console.log(sink); // keeps the results alive
