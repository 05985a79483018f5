/**
 * The page encoder's thread (see page-encoder.ts): parses System Log pages and encodes their
 * events as Avro, off the thread that talks to Okta and Kafka.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createOktaEventCodec, type OktaEventCodecOptions } from '../avro/index.js';
import { PageBodyError } from '../okta/page-body.js';
import { encodePageBody } from './page-encoding.js';
import type { EncodeReply, EncodeRequest } from './page-encoder.js';

const codec = createOktaEventCodec(workerData as OktaEventCodecOptions);
const port = parentPort!;

port.on('message', ({ id, body, contentType }: EncodeRequest) => {
  let reply: EncodeReply;
  try {
    const page = encodePageBody(Buffer.from(body), contentType, codec, (items) => port.postMessage({ id, items } satisfies EncodeReply));
    reply = { id, page };
    port.postMessage(reply, [page.values.buffer as ArrayBuffer, page.ends.buffer as ArrayBuffer]);
    return;
  } catch (err) {
    reply = err instanceof PageBodyError ? { id, bodyProblem: err.problem } : { id, failure: (err as Error).message };
  }
  port.postMessage(reply);
});
