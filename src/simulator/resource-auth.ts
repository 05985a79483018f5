import type { AccessTokens } from './access-tokens.js';
import { DpopError, type DpopVerifier } from './dpop.js';

/**
 * Who may call /api/v1/logs (okta-system-log-api.md section 4):
 *   `Authorization: SSWS <token>`    an API token the simulator knows and has not revoked;
 *   `Authorization: Bearer <token>`  an access token it issued, not expired, not DPoP-bound;
 *   `Authorization: DPoP <token>`    a DPoP-bound access token it issued, with a `DPoP` proof
 *                                    signed by the bound key (htm, htu, iat, jti, ath).
 * A refusal carries the WWW-Authenticate challenge an OAuth resource server sends; the caller
 * answers 401 E0000011 either way.
 */
export type AuthScheme = 'SSWS' | 'Bearer' | 'DPoP' | 'none' | 'other';

export type AuthResult = { ok: true } | { ok: false; challenge: string | undefined };

export class ResourceAuthenticator {
  private readonly apiTokens: Set<string>;
  private readonly revoked = new Set<string>();

  constructor(
    apiTokens: readonly string[],
    private readonly accessTokens: AccessTokens,
    private readonly dpop: DpopVerifier,
    private readonly now: () => number,
  ) {
    this.apiTokens = new Set(apiTokens);
  }

  addToken(token: string): void {
    this.apiTokens.add(token);
    this.revoked.delete(token);
  }

  /** Refuse the token from now on: an API token, or an access token the simulator issued. */
  revokeToken(token: string): void {
    this.revoked.add(token);
  }

  static scheme(authorization: string | undefined): AuthScheme {
    if (!authorization) return 'none';
    const scheme = authorization.slice(0, authorization.indexOf(' ')).toLowerCase();
    if (scheme === 'ssws') return 'SSWS';
    if (scheme === 'bearer') return 'Bearer';
    if (scheme === 'dpop') return 'DPoP';
    return 'other';
  }

  async check(request: { method: string; url: string; authorization: string | undefined; dpop: string | undefined }): Promise<AuthResult> {
    const { authorization } = request;
    const scheme = ResourceAuthenticator.scheme(authorization);
    const credential = authorization?.slice(authorization.indexOf(' ') + 1).trim() ?? '';
    if (credential === '' || this.revoked.has(credential)) return refuse(scheme);
    if (scheme === 'SSWS') return this.apiTokens.has(credential) ? { ok: true } : refuse(scheme);
    if (scheme !== 'Bearer' && scheme !== 'DPoP') return refuse(scheme);

    const token = this.accessTokens.find(credential, this.now());
    if (!token) return { ok: false, challenge: `${scheme} error="invalid_token", error_description="The access token is invalid or has expired."` };
    if (scheme === 'Bearer') {
      return token.jkt ? { ok: false, challenge: 'DPoP error="invalid_token", error_description="The access token is DPoP-bound: send it with the DPoP scheme and a proof."' } : { ok: true };
    }
    if (!token.jkt) return { ok: false, challenge: 'Bearer error="invalid_token", error_description="The access token is not DPoP-bound."' };
    if (!request.dpop) return { ok: false, challenge: 'DPoP error="invalid_dpop_proof", error_description="The DPoP proof header is missing."' };
    try {
      const jkt = await this.dpop.verify(request.dpop, { method: request.method, url: request.url, accessToken: credential, requireNonce: false });
      if (jkt !== token.jkt) return { ok: false, challenge: 'DPoP error="invalid_dpop_proof", error_description="The DPoP proof is not signed by the key the token is bound to."' };
      return { ok: true };
    } catch (err) {
      if (!(err instanceof DpopError)) throw err;
      return { ok: false, challenge: `DPoP error="invalid_dpop_proof", error_description="${err.message.replaceAll('"', "'")}"` };
    }
  }
}

function refuse(scheme: AuthScheme): AuthResult {
  return { ok: false, challenge: scheme === 'Bearer' || scheme === 'DPoP' ? `${scheme} error="invalid_token"` : undefined };
}
