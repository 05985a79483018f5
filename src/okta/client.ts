import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { ForwarderError, type ErrorCode } from '../errors.js';
import { describeBody, describeNetworkError } from '../http-errors.js';
import type { Authenticator } from './auth.js';
import { parseLinkHeaders } from './links.js';
import { PageBodyError, readPageItems } from './page-body.js';
import { readRateLimit, type RateLimitSnapshot } from './rate-limit.js';

/** An Okta failure, with what the poller needs to decide: the HTTP status, Okta's errorCode, and when to retry. */
export class OktaError extends ForwarderError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly details: { status?: number; oktaCode?: string; retryAtMs?: number; rateLimit?: RateLimitSnapshot; cause?: unknown } = {},
  ) {
    super(code, message, { retriable: code !== 'OF_OKTA_FOREIGN_HOST', cause: details.cause });
    this.name = 'OktaError';
  }
}

export interface LogPage<T = unknown[]> {
  /** The page's events: as Okta sent them (any JSON values), or what the caller's body reader made of them. */
  events: T;
  /** The `rel="next"` link, verbatim; always present on polling requests. */
  nextUrl: string | undefined;
  rateLimit: RateLimitSnapshot | undefined;
  /** Size of the response body, for metrics. */
  bytes: number;
}

/**
 * Turns the body of a 200 answer into the page's content; throws PageBodyError when the body is
 * not a page of events. May be asynchronous (the poller encodes pages on a worker thread).
 */
export type PageBodyReader<T> = (body: Buffer, response: { contentType: string; nextUrl: string | undefined; rateLimit: RateLimitSnapshot | undefined }) => T | Promise<T>;

export interface OktaClientOptions {
  /** The org's host name (and port), as configured. */
  domain: string;
  /** Plain HTTP, for the project's simulator only. */
  allowInsecureHttp: boolean;
  authenticator: Authenticator;
  /** Okta times a query out after 30 s (500 E0000009); wait a little longer than that for headers. */
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  connectTimeoutMs?: number;
}

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
export const USER_AGENT = `okta-forwarder/${VERSION} (+https://github.com/okta-forwarder; node ${process.version})`;

/**
 * HTTP client of one org's System Log: one keep-alive connection (the poller sends one request at
 * a time per org), HTTPS only, and never a request to another host, whatever a `next` link says.
 */
export class OktaClient {
  readonly origin: string;
  private readonly pool: Pool;

  constructor(private readonly options: OktaClientOptions) {
    this.origin = `${options.allowInsecureHttp ? 'http' : 'https'}://${options.domain}`;
    this.pool = new Pool(this.origin, {
      connections: 1,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.headersTimeoutMs ?? 45_000,
      bodyTimeout: options.bodyTimeoutMs ?? 60_000,
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    });
  }

  /** The first request of a new connector: a polling request (ASCENDING, no `until`) from `since`. */
  pollingUrl(since: Date, limit = 1000): string {
    const query = new URLSearchParams({ since: since.toISOString(), sortOrder: 'ASCENDING', limit: String(limit) });
    return `${this.origin}/api/v1/logs?${query.toString()}`;
  }

  /**
   * GET one page of /api/v1/logs; the events as Okta sent them, or as `read` makes them from the
   * body. A 401 is retried once after the authenticator refreshed its credentials.
   */
  async getPage(url: string): Promise<LogPage>;
  async getPage<T>(url: string, read: PageBodyReader<T>): Promise<LogPage<T>>;
  async getPage(url: string, read: PageBodyReader<unknown> = (body, { contentType }) => readPageItems(body, contentType)): Promise<LogPage<unknown>> {
    const target = this.checkUrl(url);
    for (let attempt = 1; ; attempt += 1) {
      const response = await this.send(target);
      const rateLimit = readRateLimit(response.headers);
      if (response.status === 200) return this.readPage(target, response.body, response.headers, rateLimit, read);
      if (response.status === 401 && attempt === 1) {
        await this.options.authenticator.invalidate();
        continue;
      }
      throw this.failure(response.status, response.body.toString('utf8'), response.headers, rateLimit);
    }
  }

  /** The files the org's credentials come from (see Authenticator.secretFiles). */
  get secretFiles(): readonly string[] {
    return this.options.authenticator.secretFiles;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Only the org's own origin: a `next` link to anywhere else is refused, never followed. */
  private checkUrl(url: string): URL {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new OktaError('OF_OKTA_FOREIGN_HOST', `following a link from ${this.options.domain}: ${JSON.stringify(url.slice(0, 200))} is not a URL`);
    }
    if (target.origin !== this.origin) {
      throw new OktaError('OF_OKTA_FOREIGN_HOST', `following a link from ${this.options.domain}: refusing ${target.origin}, which is not the org's own ${this.origin}`);
    }
    return target;
  }

  private async send(target: URL): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
    const auth = await this.options.authenticator.headers('GET', target);
    try {
      const response = await this.pool.request({
        method: 'GET',
        path: `${target.pathname}${target.search}`,
        headers: { accept: 'application/json', 'user-agent': USER_AGENT, ...auth },
      });
      // Bytes, not text: a page body goes to the encoder thread as is, without a copy.
      const body = Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, body, headers: response.headers };
    } catch (err) {
      throw new OktaError('OF_OKTA_UNREACHABLE', `requesting ${target.pathname} from ${this.options.domain}: ${describeNetworkError(err, 'Okta', 'check the domain')}`, { cause: err });
    }
  }

  private async readPage<T>(
    target: URL,
    body: Buffer,
    headers: Record<string, string | string[] | undefined>,
    rateLimit: RateLimitSnapshot | undefined,
    read: PageBodyReader<T>,
  ): Promise<LogPage<T>> {
    const nextUrl = parseLinkHeaders(headers.link).get('next');
    const bytes = body.length;
    try {
      return { events: await read(body, { contentType: String(headers['content-type'] ?? ''), nextUrl, rateLimit }), nextUrl, rateLimit, bytes };
    } catch (err) {
      if (!(err instanceof PageBodyError)) throw err;
      throw new OktaError('OF_OKTA_BAD_RESPONSE', `reading ${target.pathname} from ${this.options.domain}: 200 with ${err.problem}`, {
        status: 200,
        ...(rateLimit ? { rateLimit } : {}),
      });
    }
  }

  private failure(status: number, body: string, headers: Record<string, string | string[] | undefined>, rateLimit: RateLimitSnapshot | undefined): OktaError {
    const okta = parseOktaError(body);
    const what = okta ? `${status} ${okta.errorCode} (${okta.errorSummary})` : `${status} with ${describeBody(body, headers)}`;
    const domain = this.options.domain;
    const details = { status, ...(okta ? { oktaCode: okta.errorCode } : {}), ...(rateLimit ? { rateLimit } : {}) };
    const credentials = this.options.authenticator.description;
    if (status === 401) {
      return new OktaError(
        'OF_OKTA_UNAUTHORIZED',
        `Okta ${domain} answered ${what} to the ${credentials}: the credential is wrong, revoked, or (an API token) expired after 30 days unused. ` +
          'Create a new one in the Okta admin console and update where it is read from; the forwarder retries by itself.',
        details,
      );
    }
    if (status === 403) {
      return new OktaError(
        'OF_OKTA_FORBIDDEN',
        `Okta ${domain} answered ${what} to the ${credentials}: it may not read the System Log. An API token must belong to an admin with a role ` +
          'that can view the System Log (Read-only, Report or Super Administrator); a service app needs the okta.logs.read scope granted and an admin role assigned.',
        details,
      );
    }
    if (status === 429) {
      const retryAtMs = rateLimit?.resetAtMs;
      return new OktaError('OF_OKTA_RATE_LIMITED', `Okta ${domain} answered ${what}: the org's rate limit for /api/v1/logs is spent`, {
        ...details,
        ...(retryAtMs !== undefined ? { retryAtMs } : {}),
      });
    }
    if (status === 400 && okta?.errorCode === 'E0000029') {
      return new OktaError('OF_OKTA_CURSOR_REJECTED', `Okta ${domain} rejected the saved cursor: ${what}`, details);
    }
    if (status >= 500) return new OktaError('OF_OKTA_UNREACHABLE', `Okta ${domain} answered ${what}`, details);
    if (status >= 400) return new OktaError('OF_OKTA_BAD_REQUEST', `Okta ${domain} answered ${what}; check the org's domain and settings`, details);
    return new OktaError('OF_OKTA_BAD_RESPONSE', `Okta ${domain} answered ${what}, which the forwarder does not expect`, details);
  }
}

interface OktaErrorBody {
  errorCode: string;
  errorSummary: string;
}

function parseOktaError(body: string): OktaErrorBody | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<OktaErrorBody>;
    if (parsed && typeof parsed.errorCode === 'string') return { errorCode: parsed.errorCode, errorSummary: String(parsed.errorSummary ?? '') };
  } catch {
    /* not JSON: described by describeBody */
  }
  return undefined;
}
