import { randomBytes } from 'node:crypto';

/**
 * The access tokens the simulator's org authorization server issued. Opaque random strings
 * (real Okta tokens are JWTs, but a client must not look inside either). A DPoP-bound token
 * remembers the thumbprint of its key (cnf.jkt) and is only accepted with a proof by that key.
 */
export interface AccessToken {
  readonly token: string;
  readonly clientId: string;
  readonly scope: string;
  readonly expiresAtMs: number;
  /** Set for DPoP-bound tokens. */
  readonly jkt: string | undefined;
}

export class AccessTokens {
  private readonly tokens = new Map<string, AccessToken>();

  issue(clientId: string, scope: string, expiresAtMs: number, jkt: string | undefined): AccessToken {
    const record: AccessToken = { token: randomBytes(32).toString('base64url'), clientId, scope, expiresAtMs, jkt };
    this.tokens.set(record.token, record);
    return record;
  }

  /** The token if it was issued here and has not expired at `nowMs`. */
  find(token: string, nowMs: number): AccessToken | undefined {
    const record = this.tokens.get(token);
    if (!record) return undefined;
    if (record.expiresAtMs <= nowMs) {
      this.tokens.delete(token);
      return undefined;
    }
    return record;
  }
}
