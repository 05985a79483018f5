import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import type { AccessTokens } from './access-tokens.js';
import { DpopError, type DpopVerifier } from './dpop.js';

/**
 * `POST /oauth2/v1/token` of the org authorization server, for one API Services app
 * (okta-system-log-api.md 4.3 and 4.4): client credentials, authenticated by a private_key_jwt
 * client assertion, scope okta.logs.read, optionally DPoP-bound.
 *
 * Order of checks: request shape, then the DPoP proof (nonce included), then the client
 * assertion. The DPoP check comes first so that a request bounced with use_dpop_nonce has not
 * spent its assertion's jti: the client may retry with the same assertion or a new one.
 * Errors are OAuth JSON: {"error": ..., "error_description": ...}; 401 for client
 * authentication failures, 400 for the rest.
 */
export const LOGS_SCOPE = 'okta.logs.read';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_S = 3600;

export interface TokenEndpointOptions {
  clientId: string;
  /** The app's public key: a JWK, or a PEM (SPKI, PKCS#1, or a certificate). */
  publicKey: JWK | string;
  requireDpop: boolean;
  accessTokenTtlSeconds: number;
  now: () => number;
  tokens: AccessTokens;
  dpop: DpopVerifier;
}

export interface TokenResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class TokenEndpoint {
  private readonly key: KeyObject;
  private readonly algorithms: string[];
  private readonly usedJti = new Map<string, number>();

  constructor(private readonly options: TokenEndpointOptions) {
    const { publicKey } = options;
    this.key = typeof publicKey === 'string' ? createPublicKey(publicKey) : createPublicKey({ key: publicKey as import('node:crypto').JsonWebKey, format: 'jwk' });
    this.algorithms = algorithmsFor(this.key);
  }

  /**
   * Handle one token request. `tokenUrl` is the URL the client addressed (the assertion's aud and
   * the proof's htu must name it); `contentType` and `dpopProof` are its headers.
   */
  async handle(body: string, contentType: string | undefined, dpopProof: string | undefined, tokenUrl: string): Promise<TokenResponse> {
    if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return oauthError(400, 'invalid_request', 'The request must be sent as application/x-www-form-urlencoded.');
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].');
    }
    const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
    if (scopes.length === 0) return oauthError(400, 'invalid_scope', "The authorization server resource does not have any configured default scopes, 'scope' must be provided.");
    const refused = scopes.filter((s) => s !== LOGS_SCOPE);
    if (refused.length > 0) return oauthError(400, 'invalid_scope', `The following scopes are not allowed: [${refused.join(', ')}]`);
    const assertion = form.get('client_assertion');
    if (form.get('client_assertion_type') !== ASSERTION_TYPE || !assertion) {
      return oauthError(401, 'invalid_client', 'Client authentication failed. Either the client or the client credentials are invalid.');
    }

    let jkt: string | undefined;
    if (dpopProof !== undefined) {
      try {
        jkt = await this.options.dpop.verify(dpopProof, { method: 'POST', url: tokenUrl, requireNonce: true });
      } catch (err) {
        if (!(err instanceof DpopError)) throw err;
        if (err.useNonce) return { ...oauthError(400, 'use_dpop_nonce', err.message), headers: { ...JSON_HEADERS, 'dpop-nonce': this.options.dpop.nonce() } };
        return oauthError(400, 'invalid_dpop_proof', err.message);
      }
    } else if (this.options.requireDpop) {
      return oauthError(400, 'invalid_dpop_proof', 'The DPoP proof JWT header is missing.');
    }

    const clientProblem = await this.verifyAssertion(assertion, form.get('client_id'), tokenUrl);
    if (clientProblem) return oauthError(401, 'invalid_client', clientProblem);

    const ttl = this.options.accessTokenTtlSeconds;
    const issued = this.options.tokens.issue(this.options.clientId, LOGS_SCOPE, this.options.now() + ttl * 1000, jkt);
    return {
      status: 200,
      headers: { ...JSON_HEADERS, 'cache-control': 'no-store', pragma: 'no-cache' },
      body: JSON.stringify({ token_type: jkt ? 'DPoP' : 'Bearer', expires_in: ttl, access_token: issued.token, scope: LOGS_SCOPE }),
    };
  }

  /** Undefined when the assertion authenticates the client; otherwise Okta-like wording of why not. */
  private async verifyAssertion(assertion: string, formClientId: string | null, tokenUrl: string): Promise<string | undefined> {
    const { clientId, now } = this.options;
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(assertion);
    } catch {
      return 'The client_assertion is not a valid JWT.';
    }
    if (claims.iss !== clientId || claims.sub !== clientId || (formClientId !== null && formClientId !== clientId)) {
      return 'The client_id is invalid: the client_assertion iss and sub must be the client_id of a registered client.';
    }
    try {
      await jwtVerify(assertion, this.key, {
        algorithms: this.algorithms,
        audience: tokenUrl,
        issuer: clientId,
        subject: clientId,
        requiredClaims: ['exp'],
        currentDate: new Date(now()),
      });
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return 'The client_assertion token is expired.';
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') {
        return `The audience [${String(claims.aud)}] of the client_assertion is invalid. The audience should be [${tokenUrl}].`;
      }
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The client_assertion signature is invalid.';
      if (err instanceof joseErrors.JOSEAlgNotAllowed) return `The client_assertion alg is not allowed for the registered key; use one of ${this.algorithms.join(', ')}.`;
      if (err instanceof joseErrors.JOSEError) return `The client_assertion is invalid: ${err.message}`;
      throw err;
    }
    const exp = claims.exp as number;
    if (exp * 1000 - now() > MAX_ASSERTION_LIFETIME_S * 1000) return 'The client_assertion token has an expiration too far into the future.';
    if (typeof claims.jti === 'string') {
      if (this.usedJti.has(claims.jti)) return 'The client_assertion token has already been used. Create a new one with a unique jti.';
      this.usedJti.set(claims.jti, exp * 1000);
      for (const [jti, until] of this.usedJti) if (until < now()) this.usedJti.delete(jti);
    }
    return undefined;
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function oauthError(status: number, error: string, description: string): TokenResponse {
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify({ error, error_description: description }) };
}

/** Okta accepts RS256/384/512 and ES256/384/512 (section 4.3); the key decides which family. */
function algorithmsFor(key: KeyObject): string[] {
  if (key.asymmetricKeyType === 'rsa') return ['RS256', 'RS384', 'RS512'];
  if (key.asymmetricKeyType === 'ec') return ['ES256', 'ES384', 'ES512'];
  throw new TypeError(`the OAuth public key must be RSA or EC, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
}
