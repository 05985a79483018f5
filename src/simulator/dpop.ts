import { createHash, createHmac } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify, type JWK } from 'jose';

/**
 * Verification of DPoP proofs (RFC 9449) as Okta applies them (okta-system-log-api.md 4.4): on
 * the token endpoint (proof of the key the access token will be bound to, with a server nonce)
 * and on resource calls (proof of the bound key, with `ath`, the hash of the access token).
 *
 * Checks: typ dpop+jwt; an asymmetric alg; a public `jwk` in the header whose key signed the
 * proof; htm = the request method; htu = the request URL without query and fragment; iat within
 * IAT_WINDOW_MS of now; a jti not seen before; ath when an access token is presented; the nonce
 * when one is required. The nonce is derived from a per-simulator secret and the clock, rotates
 * every NONCE_PERIOD_MS, and the previous one stays valid (a client holding it is not bounced).
 */
export const IAT_WINDOW_MS = 5 * 60_000;
export const NONCE_PERIOD_MS = 60 * 60_000;
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

export class DpopError extends Error {
  /** True when the only problem is a missing or stale nonce: answer use_dpop_nonce. */
  constructor(
    message: string,
    readonly useNonce = false,
  ) {
    super(message);
  }
}

export interface DpopCheck {
  method: string;
  /** The URL the request was sent to (its query and fragment are ignored). */
  url: string;
  /** Resource calls: the access token the proof must be bound to (checked through `ath`). */
  accessToken?: string;
  requireNonce: boolean;
}

export class DpopVerifier {
  private readonly seenJti = new Map<string, number>();

  constructor(
    private readonly secret: Buffer,
    private readonly now: () => number,
  ) {}

  /** The nonce the server currently hands out in `dpop-nonce`. */
  nonce(): string {
    return this.nonceFor(Math.floor(this.now() / NONCE_PERIOD_MS));
  }

  /** The JWK thumbprint (jkt) of the key that signed a valid proof; throws DpopError otherwise. */
  async verify(proof: string, check: DpopCheck): Promise<string> {
    let payload: Record<string, unknown>;
    let jwk: JWK | undefined;
    try {
      const result = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ALGORITHMS, currentDate: new Date(this.now()) });
      payload = result.payload;
      jwk = result.protectedHeader.jwk;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError) throw new DpopError(`DPoP proof is invalid: ${err.message}`);
      throw new DpopError('DPoP proof is not a valid JWT');
    }
    if (!jwk) throw new DpopError('DPoP proof has no jwk header');
    if (payload.htm !== check.method) throw new DpopError(`DPoP proof htm "${String(payload.htm)}" does not match the request method ${check.method}`);
    if (typeof payload.htu !== 'string' || stripUrl(payload.htu) !== stripUrl(check.url)) {
      throw new DpopError(`DPoP proof htu "${String(payload.htu)}" does not match the request URL ${stripUrl(check.url)}`);
    }
    const now = this.now();
    if (typeof payload.iat !== 'number' || Math.abs(payload.iat * 1000 - now) > IAT_WINDOW_MS) throw new DpopError('DPoP proof iat is missing or not recent');
    if (typeof payload.jti !== 'string' || payload.jti === '') throw new DpopError('DPoP proof has no jti');
    if (check.accessToken !== undefined) {
      const ath = createHash('sha256').update(check.accessToken).digest('base64url');
      if (payload.ath !== ath) throw new DpopError('DPoP proof ath does not match the access token');
    }
    if (check.requireNonce) {
      const period = Math.floor(now / NONCE_PERIOD_MS);
      if (payload.nonce !== this.nonceFor(period) && payload.nonce !== this.nonceFor(period - 1)) {
        throw new DpopError('Authorization server requires nonce in DPoP proof.', true);
      }
    }
    // Replay is checked last: a proof refused only for its nonce may not be counted as used.
    this.rememberJti(payload.jti, now);
    return calculateJwkThumbprint(jwk, 'sha256');
  }

  private rememberJti(jti: string, now: number): void {
    if (this.seenJti.has(jti)) throw new DpopError('DPoP proof jti has already been used');
    this.seenJti.set(jti, now);
    if (this.seenJti.size > 10_000) {
      for (const [key, at] of this.seenJti) if (now - at > 2 * IAT_WINDOW_MS) this.seenJti.delete(key);
    }
  }

  private nonceFor(period: number): string {
    return createHmac('sha256', this.secret).update(`dpop-nonce:${period}`).digest('base64url').slice(0, 32);
  }
}

function stripUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}
