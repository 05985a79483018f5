import { Worker } from 'node:worker_threads';
import { createOktaEventCodec, type OktaEventCodec, type OktaEventCodecOptions } from '../avro/index.js';
import { ForwarderError } from '../errors.js';
import { PageBodyError } from '../okta/page-body.js';
import { encodePageBody, fromTransferable, type EncodedPage, type TransferablePage } from './page-encoding.js';

export interface EncodeRequest {
  id: number;
  body: ArrayBuffer;
  contentType: string;
}

/** Replies to a request: the count of items first (as soon as the body is parsed), then the page or why not. */
export type EncodeReply = { id: number; items: number } | { id: number; page: TransferablePage } | { id: number; bodyProblem: string } | { id: number; failure: string };

/**
 * Page parsing and Avro encoding took a third of the poller's main thread, which also runs
 * KafkaJS's protocol encoding: on a worker thread they run beside it (bench/poller.ts). Bodies go
 * to the thread and encoded pages come back as transferred buffers, not copies.
 *
 * One encoder serves every org of the process, a page at a time. The thread starts at the first
 * large page; if it dies, the pages in flight fail with a retriable OF_AVRO_ENCODE (the poller
 * fetches them again) and the next page starts a new thread.
 *
 * The thread is worth its memory (its own V8 heap: 12 MB idle, 30-40 MB working) only for large
 * pages. A tailing poller's pages hold a few events each and take well under a millisecond to
 * encode: bodies below `inlineBelowBytes` are encoded on the calling thread, and the thread stops
 * after `idleStopMs` without work, so a process that only tails does not keep one.
 */
export interface PageEncoderOptions {
  /** Bodies smaller than this are encoded on the calling thread (default 64 KiB, some 30 events). */
  inlineBelowBytes?: number;
  /** The thread stops after this long without a page (default 30 s); the next large page starts it again. */
  idleStopMs?: number;
}

export class PageEncoder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (page: EncodedPage) => void; reject: (error: Error) => void; onCounted: ((items: number) => void) | undefined }>();
  private nextId = 1;
  private codec: OktaEventCodec | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly inlineBelowBytes: number;
  private readonly idleStopMs: number;

  /** `codecOptions`: how to encode (plain data, it is handed to the thread). */
  constructor(
    private readonly codecOptions: Pick<OktaEventCodecOptions, 'encodeWithConfluentId'> = {},
    options: PageEncoderOptions = {},
  ) {
    this.inlineBelowBytes = options.inlineBelowBytes ?? 64 * 1024;
    this.idleStopMs = options.idleStopMs ?? 30_000;
  }

  /** Whether the encoder thread is running (it starts with the first large page, and stops when idle). */
  get threadRunning(): boolean {
    return this.worker !== undefined;
  }

  /**
   * A page body (a 200 answer) as events ready for Kafka. Rejects with PageBodyError when the body
   * is not a JSON array. `onCounted` hears the number of items once parsed, before encoding ends.
   */
  encode(body: Buffer, contentType: string, onCounted?: (items: number) => void): Promise<EncodedPage> {
    if (body.byteLength < this.inlineBelowBytes) return this.encodeHere(body, contentType, onCounted);
    clearTimeout(this.idleTimer);
    const worker = this.started();
    const id = this.nextId++;
    // The body's memory moves to the thread; a Buffer that shares memory with others is copied first.
    const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
    const transferable = whole ? (body.buffer as ArrayBuffer) : Uint8Array.prototype.slice.call(body).buffer;
    const request: EncodeRequest = { id, body: transferable, contentType };
    const result = new Promise<EncodedPage>((resolve, reject) => this.pending.set(id, { resolve, reject, onCounted }));
    if (this.pending.size === 1) worker.ref();
    worker.postMessage(request, [transferable]);
    return result;
  }

  /** A small page, on this thread: the same code and the same errors as on the encoder thread. */
  private encodeHere(body: Buffer, contentType: string, onCounted: ((items: number) => void) | undefined): Promise<EncodedPage> {
    try {
      this.codec ??= createOktaEventCodec(this.codecOptions);
      return Promise.resolve(fromTransferable(encodePageBody(body, contentType, this.codec, onCounted)));
    } catch (err) {
      if (err instanceof PageBodyError) return Promise.reject(err);
      return Promise.reject(new ForwarderError('OF_AVRO_ENCODE', `encoding a page as Avro: ${(err as Error).message}`, { retriable: true, cause: err }));
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    if (!worker) return;
    this.fail(worker, new Error('the encoder was closed'));
    await worker.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const [entry, entryOptions] = workerEntry();
    const worker = new Worker(entry, {
      ...entryOptions,
      workerData: this.codecOptions,
      // A young generation of 24 MB (V8's default is 48) holds a parsed page and cut the peak RSS
      // by about 40 MB at the same throughput (bench/poller.ts). The old generation is not capped:
      // a thread out of memory would fail the same huge page again and again.
      resourceLimits: { maxYoungGenerationSizeMb: 24 },
    });
    worker.on('message', (reply: EncodeReply) => this.settle(reply));
    worker.on('error', (err) => this.fail(worker, err));
    worker.on('exit', (code) => this.fail(worker, new Error(`the thread exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: EncodeReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    if ('items' in reply) return waiting.onCounted?.(reply.items);
    this.pending.delete(reply.id);
    if (this.pending.size === 0) {
      this.worker?.unref();
      this.stopWhenIdle();
    }
    if ('page' in reply) waiting.resolve(fromTransferable(reply.page));
    else if ('bodyProblem' in reply) waiting.reject(new PageBodyError(reply.bodyProblem));
    else waiting.reject(new ForwarderError('OF_AVRO_ENCODE', `encoding a page as Avro: ${reply.failure}`, { retriable: true }));
  }

  private stopWhenIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const worker = this.worker;
      if (!worker || this.pending.size > 0) return;
      this.worker = undefined;
      void worker.terminate();
    }, this.idleStopMs);
    this.idleTimer.unref();
  }

  private fail(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const error = new ForwarderError('OF_AVRO_ENCODE', `encoding a page as Avro: the encoder thread stopped (${err.message}); the page is fetched again`, {
      retriable: true,
      cause: err,
    });
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}

/**
 * The worker's entry: the compiled page-encoder-worker.js; or, when this module runs as
 * TypeScript (tsx, vitest), a bootstrap that registers tsx in the thread and imports the .ts.
 */
function workerEntry(): [string | URL, { eval?: boolean }] {
  if (!import.meta.url.endsWith('.ts')) return [new URL('./page-encoder-worker.js', import.meta.url), {}];
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./page-encoder-worker.ts', import.meta.url).href;
  return [`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`, { eval: true }];
}
