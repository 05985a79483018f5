import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessTokens } from './access-tokens.js';
import { CursorCodec } from './cursor.js';
import { DpopVerifier } from './dpop.js';
import { EventGenerator } from './event-generator.js';
import { EventStore } from './event-store.js';
import { FaultQueue, type Fault, type FaultKind, type FaultOptions } from './faults.js';
import { parseIsoTime } from './iso-time.js';
import { LiveTraffic } from './live-traffic.js';
import { LogsEndpoint } from './logs-endpoint.js';
import type { OktaEvent } from './okta-event.js';
import {
  forbidden,
  htmlErrorPage,
  internalError,
  invalidToken,
  methodNotAllowed,
  notFound,
  oktaError,
  rateLimited,
  type OktaErrorResponse,
} from './okta-errors.js';
import { RateLimiter, rateLimitHeaders } from './rate-limiter.js';
import { ResourceAuthenticator } from './resource-auth.js';
import { TokenEndpoint, type TokenResponse } from './token-endpoint.js';
import type { GenerateOptions, RecordedRequest, SimulatorHandle, SimulatorOptions } from './types.js';

/** The request log keeps this many entries; older ones are dropped (a long demo must not grow without bound). */
export const MAX_RECORDED_REQUESTS = 10_000;
const MAX_TOKEN_BODY_BYTES = 64 * 1024;
/** Events generated and serialized per step: keeps the working set small, which is measurably faster. */
const GENERATE_CHUNK = 1000;
/** Without `from`, events are published over the minute before `to` (late ones thus persisted within the last minute). */
const DEFAULT_GENERATE_WINDOW_MS = 60_000;
/** Share of live events that arrive late, and how late (published that long before persisted). */
const LIVE_LATE_SHARE = 0.01;
const LIVE_LATE_MAX_MS = 120_000;

/** Start one simulated Okta org on loopback. See SimulatorHandle for what it offers. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const simulator = new OktaSimulator(options);
  await simulator.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return simulator;
}

class OktaSimulator implements SimulatorHandle {
  private readonly now: () => number;
  private readonly store = new EventStore();
  private readonly generator: EventGenerator;
  private readonly limiter: RateLimiter;
  private readonly faults = new FaultQueue();
  private readonly auth: ResourceAuthenticator;
  private readonly tokenEndpoint: TokenEndpoint | undefined;
  private readonly logs: LogsEndpoint;
  private readonly server: Server;
  private readonly live = new Set<LiveTraffic>();
  private readonly delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private recorded: RecordedRequest[] = [];
  private closed = false;
  private address = '';

  constructor(options: SimulatorOptions) {
    this.now = options.now ?? Date.now;
    const secret = randomBytes(32);
    this.generator = new EventGenerator(options.seed);
    this.limiter = new RateLimiter(options.rateLimitPerMinute ?? 120, this.now, (options.rateLimitWindowSeconds ?? 60) * 1000);
    const accessTokens = new AccessTokens();
    const dpop = new DpopVerifier(secret, this.now);
    this.auth = new ResourceAuthenticator(options.apiTokens ?? [], accessTokens, dpop, this.now);
    this.tokenEndpoint = options.oauth
      ? new TokenEndpoint({
          clientId: options.oauth.clientId,
          publicKey: options.oauth.publicKey,
          requireDpop: options.oauth.requireDpop ?? false,
          accessTokenTtlSeconds: options.oauth.accessTokenTtlSeconds ?? 3600,
          now: this.now,
          tokens: accessTokens,
          dpop,
        })
      : undefined;
    this.logs = new LogsEndpoint(this.store, new CursorCodec(secret), this.now);
    this.server = createServer((req, res) => void this.onRequest(req, res));
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port: actual } = this.server.address() as AddressInfo;
    this.address = `${host.includes(':') ? `[${host}]` : host}:${actual}`;
  }

  get url(): string {
    return `http://${this.address}`;
  }

  get domain(): string {
    return this.address;
  }

  get requests(): readonly RecordedRequest[] {
    return this.recorded;
  }

  get eventCount(): number {
    return this.store.size;
  }

  generate(count: number, options: GenerateOptions = {}): OktaEvent[] {
    if (!Number.isInteger(count) || count < 0) throw new TypeError(`generate: count must be a non-negative integer, got ${count}`);
    const lateMs = options.lateMs ?? 0;
    const to = options.to ?? this.now() - lateMs;
    const from = options.from ?? to - DEFAULT_GENERATE_WINDOW_MS;
    if (!(from <= to)) throw new TypeError(`generate: from (${from}) must not be after to (${to})`);
    const times = this.generator.spread(count, from, to);
    const events: OktaEvent[] = new Array(count);
    for (let start = 0; start < count; start += GENERATE_CHUNK) {
      const chunk = this.generator.generate(times.subarray(start, Math.min(count, start + GENERATE_CHUNK)));
      for (let j = 0; j < chunk.events.length; j++) {
        const publishedMs = times[start + j] as number;
        this.store.add(chunk.json[j] as string, publishedMs, publishedMs + lateMs);
        events[start + j] = chunk.events[j] as OktaEvent;
      }
    }
    return events;
  }

  append(events: object[]): void {
    for (const event of events) {
      if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new TypeError('append: every event must be a JSON object');
      const json = JSON.stringify(event);
      const persistedMs = this.now();
      const published = (event as { published?: unknown }).published;
      const publishedMs = (typeof published === 'string' ? parseIsoTime(published) : undefined) ?? persistedMs;
      this.store.add(json, publishedMs, persistedMs);
    }
  }

  appendRaw(json: string): void {
    try {
      JSON.parse(json);
    } catch (err) {
      throw new TypeError(`appendRaw: the text must be one JSON value: ${(err as Error).message}`);
    }
    const persistedMs = this.now();
    this.store.add(json, persistedMs, persistedMs);
  }

  startLiveTraffic(perMinute: number): () => void {
    if (this.closed) throw new Error('startLiveTraffic: the simulator is closed');
    let previous = this.now();
    const traffic = new LiveTraffic(perMinute, (count) => {
      const clock = this.now();
      const times = this.generator.spread(count, Math.min(previous, clock), clock);
      previous = clock;
      for (let i = 0; i < times.length; i++) {
        if (this.generator.float() < LIVE_LATE_SHARE) times[i] = (times[i] as number) - Math.floor(this.generator.float() * LIVE_LATE_MAX_MS);
      }
      const { json } = this.generator.generate(times);
      // All persisted now; the few late ones were published up to two minutes earlier.
      for (let i = 0; i < json.length; i++) this.store.add(json[i] as string, times[i] as number, clock);
    });
    this.live.add(traffic);
    return () => {
      traffic.stop();
      this.live.delete(traffic);
    };
  }

  injectFaults(kind: FaultKind, count: number, options?: FaultOptions): void {
    this.faults.inject(kind, count, options);
  }

  revokeToken(token: string): void {
    this.auth.revokeToken(token);
  }

  addToken(token: string): void {
    this.auth.addToken(token);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const traffic of this.live) traffic.stop();
    this.live.clear();
    for (const delay of this.delays) {
      clearTimeout(delay.timer);
      delay.resolve();
    }
    this.delays.clear();
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closing;
  }

  // -------------------------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host ?? this.address}`);
    } catch {
      url = new URL(`http://${this.address}/`);
      return this.reply(req, res, url, oktaError(400, 'E0000001', 'Api validation failed: the request URL or Host header is malformed'), {});
    }
    try {
      if (url.pathname === '/api/v1/logs') await this.onLogs(req, res, url);
      else if (url.pathname === '/oauth2/v1/token') await this.onToken(req, res, url);
      else this.reply(req, res, url, notFound(url.pathname), {});
    } catch {
      if (!res.headersSent) this.reply(req, res, url, internalError(), {});
    }
  }

  private async onLogs(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const decision = this.limiter.take();
    const rateHeaders = rateLimitHeaders(decision);
    const fault = this.faults.take();
    if (fault) {
      const handled = await this.applyFault(fault, req, res, url, rateHeaders);
      if (handled) return;
    }
    const extra = fault ? { fault: fault.kind } : {};
    if (req.method !== 'GET') return this.reply(req, res, url, methodNotAllowed(), rateHeaders, extra);
    if (!decision.allowed) return this.reply(req, res, url, rateLimited(), rateHeaders, extra);

    const auth = await this.auth.check({ method: 'GET', url: url.href, authorization: req.headers.authorization, dpop: header(req, 'dpop') });
    if (!auth.ok) {
      return this.reply(req, res, url, invalidToken(), { ...rateHeaders, ...(auth.challenge ? { 'www-authenticate': auth.challenge } : {}) }, extra);
    }
    const page = this.logs.handle(url);
    if (!('links' in page)) return this.reply(req, res, url, page, rateHeaders, extra);
    this.reply(req, res, url, { status: 200, body: page.body }, { ...rateHeaders, link: page.links }, { ...extra, eventCount: page.eventCount });
  }

  /** True when the fault produced the whole response; `slow` only delays the normal one. */
  private async applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse, url: URL, rateHeaders: Record<string, string>): Promise<boolean> {
    const extra = { fault: fault.kind };
    switch (fault.kind) {
      case 'reset':
        this.record(req, url, 0, extra);
        req.socket.destroy();
        return true;
      case 'slow':
        await this.delay(fault.delayMs);
        return this.closed;
      case 'rate-limit':
        this.reply(req, res, url, rateLimited(), rateLimitHeaders(this.limiter.exhausted()), extra);
        return true;
      case 'server-error':
        this.reply(req, res, url, internalError(), rateHeaders, extra);
        return true;
      case 'html':
        this.reply(req, res, url, { status: fault.status, body: htmlErrorPage(fault.status) }, { ...rateHeaders, 'content-type': 'text/html; charset=utf-8' }, extra);
        return true;
      case 'unauthorized':
        this.reply(req, res, url, invalidToken(), rateHeaders, extra);
        return true;
      case 'forbidden':
        this.reply(req, res, url, forbidden(), rateHeaders, extra);
        return true;
    }
  }

  private async onToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') return this.reply(req, res, url, methodNotAllowed(), {});
    const body = await readBody(req, MAX_TOKEN_BODY_BYTES);
    const auth = new URLSearchParams(body ?? '').has('client_assertion') ? 'private_key_jwt' : 'none';
    let response: TokenResponse;
    if (body === undefined) {
      response = { status: 413, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'invalid_request', error_description: 'The request body is too large.' }) };
    } else if (!this.tokenEndpoint) {
      response = { status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'invalid_client', error_description: 'Client authentication failed. Either the client or the client credentials are invalid.' }) };
    } else {
      const tokenUrl = new URL('/oauth2/v1/token', url.origin).href;
      response = await this.tokenEndpoint.handle(body, req.headers['content-type'], header(req, 'dpop'), tokenUrl);
    }
    this.record(req, url, response.status, {}, auth);
    send(res, response.status, response.headers, response.body);
  }

  private reply(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    response: OktaErrorResponse,
    headers: Record<string, string | string[]>,
    extra: Partial<RecordedRequest> = {},
  ): void {
    this.record(req, url, response.status, extra);
    send(res, response.status, { 'content-type': 'application/json', ...headers }, response.body);
  }

  private record(req: IncomingMessage, url: URL, status: number, extra: Partial<RecordedRequest>, auth?: RecordedRequest['auth']): void {
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) if (!(key in query)) query[key] = value;
    this.recorded.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      auth: auth ?? ResourceAuthenticator.scheme(req.headers.authorization),
      status,
      time: this.now(),
      ...extra,
    });
    if (this.recorded.length > 2 * MAX_RECORDED_REQUESTS) this.recorded = this.recorded.slice(-MAX_RECORDED_REQUESTS);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.delays.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.delays.add(entry);
    });
  }
}

function send(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body: string): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, {
    'cache-control': 'no-cache, no-store',
    'x-okta-request-id': randomBytes(12).toString('base64url'),
    ...headers,
    'content-length': bytes.length,
  });
  res.end(bytes);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as text, or undefined when it is larger than `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
