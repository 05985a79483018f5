import { createHash, createPrivateKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { request, type Dispatcher } from 'undici';
import { readSecret } from '../config/index.js';
import { ForwarderError } from '../errors.js';
import { registerRotatingSecret } from '../logging/secrets.js';
import type { Authenticator } from './auth.js';

/**
 * OAuth 2.0 for Okta's management API (okta-system-log-api.md 4.3, 4.4): an API Services app
 * gets an access token from the org authorization server with the client credentials grant,
 * authenticated by a private_key_jwt client assertion, for scope okta.logs.read; with DPoP the
 * token is bound to a key of this authenticator and every request carries a proof.
 *
 * Lifecycle: the Okta client calls `headers` before every request. The first call (and any call
 * once the token is near its end) fetches a token; concurrent callers share one fetch. The token
 * is refreshed REFRESH_MARGIN before it expires: 5 minutes, or a tenth of its lifetime when that is
 * shorter, so an hour-long token is renewed at 55 minutes and a one-minute test token does not
 * make every call fetch. `invalidate` (after a 401) drops the token and the private key, so the
 * next call re-reads the key file: a rotated key is picked up without a restart.
 *
 * Errors are ForwarderError OF_OAUTH_TOKEN, "requesting an Okta access token for <clientId>:
 * <error> <error_description>", retriable when Okta or the network failed (5xx, 429, no
 * answer), not when Okta refused the client (4xx: fix the app, key or scope). Messages never
 * hold the assertion, the key or the token; the token is registered for scrubbing from logs.
 */
export interface OAuthAuthenticatorOptions {
  /** https://<domain>, or http://127.0.0.1:<port> for the simulator. */
  baseUrl: string;
  clientId: string;
  /** PEM (PKCS#8, PKCS#1 RSA or SEC1 EC) or JWK JSON of the app's private key. */
  privateKeyFile: string;
  /** The key's id in the app's JWKS (the `kid` header); a JWK file's own `kid` otherwise. */
  keyId?: string;
  /** The app requires DPoP-bound tokens. */
  dpop: boolean;
  /** Default okta.logs.read. */
  scope?: string;
  dispatcher?: Dispatcher;
  /** Clock in epoch ms; default Date.now. */
  now?: () => number;
}

const DEFAULT_SCOPE = 'okta.logs.read';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_LIFETIME_S = 300;
const REFRESH_MARGIN_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 30_000;

interface AccessToken {
  value: string;
  /** Authorization scheme: what the server's token_type says (DPoP or Bearer). */
  scheme: 'Bearer' | 'DPoP';
  refreshAtMs: number;
}

interface SigningKey {
  key: KeyObject;
  alg: 'RS256' | 'ES256' | 'ES384' | 'ES512';
  kid: string | undefined;
}

interface DpopKey {
  privateKey: CryptoKey;
  jwk: JWK;
}

export class OAuthAuthenticator implements Authenticator {
  readonly description: string;
  private readonly tokenUrl: string;
  private readonly now: () => number;
  private token: AccessToken | undefined;
  private fetching: Promise<AccessToken> | undefined;
  private signingKey: SigningKey | undefined;
  private dpopKey: Promise<DpopKey> | undefined;
  /** The last nonce the authorization server demanded (dpop-nonce), sent in later token proofs. */
  private nonce: string | undefined;

  constructor(private readonly options: OAuthAuthenticatorOptions) {
    this.tokenUrl = `${options.baseUrl.replace(/\/+$/, '')}/oauth2/v1/token`;
    this.now = options.now ?? Date.now;
    this.description = `OAuth client ${options.clientId} with the private key from ${options.privateKeyFile}${options.dpop ? ' (DPoP)' : ''}`;
  }

  async headers(method: string, url: URL): Promise<Record<string, string>> {
    const token = await this.accessToken();
    if (token.scheme === 'Bearer') return { authorization: `Bearer ${token.value}` };
    const proof = await this.proof(method, `${url.origin}${url.pathname}`, { ath: sha256(token.value) });
    return { authorization: `DPoP ${token.value}`, dpop: proof };
  }

  async invalidate(): Promise<void> {
    this.token = undefined;
    this.signingKey = undefined;
  }

  private async accessToken(): Promise<AccessToken> {
    if (this.token && this.now() < this.token.refreshAtMs) return this.token;
    this.fetching ??= this.fetchToken().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetchToken(): Promise<AccessToken> {
    this.signingKey ??= this.loadSigningKey();
    let answer = await this.post(this.signingKey);
    if (answer.status === 400 && answer.body?.error === 'use_dpop_nonce' && this.options.dpop && answer.nonce) {
      // The server demands a nonce (or a newer one): retry once with it, as RFC 9449 section 8 says.
      answer = await this.post(this.signingKey);
    }
    if (answer.status !== 200) throw this.failure(answer);
    const { body } = answer;
    const value = body?.access_token;
    if (typeof value !== 'string' || value === '') throw this.error('the response has no access_token', true);
    registerRotatingSecret(value);
    const type = typeof body?.token_type === 'string' ? body.token_type.toLowerCase() : 'bearer';
    if (type !== 'bearer' && type !== 'dpop') throw this.error(`unsupported token_type "${String(body?.token_type).slice(0, 20)}"`, false);
    const lifetimeMs = (typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600) * 1000;
    const token: AccessToken = {
      value,
      scheme: type === 'dpop' ? 'DPoP' : 'Bearer',
      refreshAtMs: this.now() + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 10),
    };
    this.token = token;
    return token;
  }

  /** One token request; remembers a dpop-nonce the server sends. */
  private async post(key: SigningKey): Promise<{ status: number; body: Record<string, unknown> | undefined; nonce: string | undefined }> {
    const assertion = await this.assertion(key);
    // It gets a token for five minutes: a token endpoint that echoes the request must not print it.
    registerRotatingSecret(assertion);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.options.scope ?? DEFAULT_SCOPE,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.options.dpop) headers.dpop = await this.proof('POST', this.tokenUrl, { nonce: this.nonce });
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.tokenUrl, {
        method: 'POST',
        headers,
        body: form.toString(),
        headersTimeout: REQUEST_TIMEOUT_MS,
        bodyTimeout: REQUEST_TIMEOUT_MS,
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
      });
    } catch (err) {
      throw this.error(`${this.tokenUrl} did not answer: ${(err as Error).message}`, true, err);
    }
    const text = await response.body.text().catch(() => '');
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const nonceHeader = response.headers['dpop-nonce'];
    const nonce = Array.isArray(nonceHeader) ? nonceHeader[0] : nonceHeader;
    if (nonce) this.nonce = nonce;
    return { status: response.statusCode, body, nonce };
  }

  /** The private_key_jwt client assertion: iss = sub = client id, aud = the token URL, 5 minutes. */
  private async assertion(key: SigningKey): Promise<string> {
    const nowS = Math.floor(this.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) })
      .setIssuer(this.options.clientId)
      .setSubject(this.options.clientId)
      .setAudience(this.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + ASSERTION_LIFETIME_S)
      .sign(key.key);
  }

  /** A DPoP proof (RFC 9449) by this authenticator's ES256 key, generated once. */
  private async proof(method: string, htu: string, extra: { ath?: string; nonce?: string | undefined }): Promise<string> {
    this.dpopKey ??= generateKeyPair('ES256').then(async ({ privateKey, publicKey }) => ({ privateKey, jwk: await exportJWK(publicKey) }));
    const { privateKey, jwk } = await this.dpopKey;
    const claims: Record<string, unknown> = { htm: method.toUpperCase(), htu, jti: randomUUID() };
    if (extra.ath) claims.ath = extra.ath;
    if (extra.nonce) claims.nonce = extra.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt(Math.floor(this.now() / 1000))
      .sign(privateKey);
  }

  private loadSigningKey(): SigningKey {
    const { clientId, privateKeyFile } = this.options;
    const text = readSecret({ file: privateKeyFile }, `the OAuth private key for ${clientId}`);
    let key: KeyObject;
    let kid = this.options.keyId;
    try {
      if (text.startsWith('{')) {
        const parsed = JSON.parse(text) as JWK & { keys?: JWK[] };
        const jwk = Array.isArray(parsed.keys) ? parsed.keys[0] : parsed;
        if (!jwk) throw new Error('empty JWKS');
        key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
        kid ??= jwk.kid;
      } else {
        key = createPrivateKey(text);
      }
    } catch {
      throw this.error(`${privateKeyFile} does not hold a private key (PEM: PKCS#8, PKCS#1 or SEC1; or a JWK with its private part)`, false);
    }
    return { key, alg: algorithmFor(key, (reason) => this.error(`${privateKeyFile}: ${reason}`, false)), kid };
  }

  private failure(answer: { status: number; body: Record<string, unknown> | undefined }): ForwarderError {
    const retriable = answer.status >= 500 || answer.status === 429 || answer.body?.error === 'use_dpop_nonce';
    const error = typeof answer.body?.error === 'string' ? answer.body.error : `HTTP ${answer.status}`;
    const description = typeof answer.body?.error_description === 'string' ? answer.body.error_description : answer.body ? '' : '(the response is not JSON)';
    return this.error(`${error} ${description}`.trim(), retriable);
  }

  private error(detail: string, retriable: boolean, cause?: unknown): ForwarderError {
    return new ForwarderError('OF_OAUTH_TOKEN', `requesting an Okta access token for ${this.options.clientId}: ${detail}`, { retriable, cause });
  }
}

/** RS256 for RSA keys, ES256/384/512 for EC P-256/384/521 (what Okta accepts for private_key_jwt). */
function algorithmFor(key: KeyObject, fail: (reason: string) => Error): SigningKey['alg'] {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
    throw fail(`EC curve ${curve ?? 'unknown'} is not accepted by Okta; use P-256`);
  }
  throw fail(`${key.asymmetricKeyType ?? 'this'} keys are not accepted by Okta; use RSA or EC P-256`);
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
