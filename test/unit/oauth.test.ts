import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ForwarderError } from '../../src/errors.js';
import { clearSecrets, REDACTED, scrubSecrets } from '../../src/logging/secrets.js';
import { OAuthAuthenticator, type OAuthAuthenticatorOptions } from '../../src/okta/oauth.js';
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../src/simulator/index.js';
import { tempDir } from '../support/temp.js';

// OAuthAuthenticator (client credentials, private_key_jwt, DPoP) against the simulator's org
// authorization server and /api/v1/logs. Both share one fake clock, so token lifetimes are
// driven, never waited for.

const CLIENT_ID = '0oa1service2app3forlogs';
const T0 = Date.parse('2024-06-01T12:00:00.000Z');
const MINUTE = 60_000;

const running: SimulatorHandle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  clearSecrets();
});

interface KeyFiles {
  /** The private key file the authenticator reads. */
  file: string;
  /** The public key the simulated app has registered. */
  publicKey: JWK | string;
  pem?: string;
}

async function rsaPemKey(dir: string, name = 'rsa.pem'): Promise<KeyFiles> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const file = join(dir, name);
  writeFileSync(file, pem);
  return { file, publicKey: await exportSPKI(publicKey), pem };
}

async function ecJwkKey(dir: string): Promise<KeyFiles> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const file = join(dir, 'ec.jwk.json');
  writeFileSync(file, JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'logs-key-1' }));
  return { file, publicKey: { ...(await exportJWK(publicKey)), kid: 'logs-key-1' } };
}

async function setup(key: KeyFiles, oauth: Partial<NonNullable<SimulatorOptions['oauth']>> = {}, auth: Partial<OAuthAuthenticatorOptions> = {}) {
  const clock = { now: T0 };
  const sim = await startSimulator({ now: () => clock.now, seed: 3, oauth: { clientId: CLIENT_ID, publicKey: key.publicKey, ...oauth } });
  running.push(sim);
  sim.generate(10, { from: T0 - MINUTE, to: T0 });
  const authenticator = new OAuthAuthenticator({ baseUrl: sim.url, clientId: CLIENT_ID, privateKeyFile: key.file, dpop: false, now: () => clock.now, ...auth });
  return { sim, clock, authenticator };
}

const logsUrl = (sim: SimulatorHandle) => new URL(`${sim.url}/api/v1/logs?since=${new Date(T0 - 5 * MINUTE).toISOString()}`);

async function getLogs(sim: SimulatorHandle, headers: Record<string, string>, url = logsUrl(sim)) {
  const res = await request(url, { headers });
  return { status: res.statusCode, body: (await res.body.json()) as unknown, wwwAuthenticate: res.headers['www-authenticate'] };
}

const tokenRequests = (sim: SimulatorHandle) => sim.requests.filter((r) => r.path === '/oauth2/v1/token');

async function failure(promise: Promise<unknown>): Promise<ForwarderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ForwarderError);
  return err as ForwarderError;
}

describe('OAuthAuthenticator', () => {
  it('gets a Bearer token with an RSA PEM key, and /api/v1/logs accepts it', async () => {
    const { sim, authenticator } = await setup(await rsaPemKey(tempDir()));
    const headers = await authenticator.headers('GET', logsUrl(sim));
    expect(Object.keys(headers)).toEqual(['authorization']);
    expect(headers.authorization).toMatch(/^Bearer \S{20,}$/);
    const res = await getLogs(sim, headers);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(10);
    expect(sim.requests.at(-1)).toMatchObject({ path: '/api/v1/logs', auth: 'Bearer', status: 200 });
    expect(tokenRequests(sim)).toEqual([expect.objectContaining({ method: 'POST', auth: 'private_key_jwt', status: 200 })]);
  });

  it('works with an EC P-256 key in a JWK file, naming its kid', async () => {
    const { sim, authenticator } = await setup(await ecJwkKey(tempDir()));
    expect((await getLogs(sim, await authenticator.headers('GET', logsUrl(sim)))).status).toBe(200);
  });

  it('accepts a PKCS#1 RSA PEM too', async () => {
    const dir = tempDir();
    const key = await rsaPemKey(dir);
    const { createPrivateKey } = await import('node:crypto');
    writeFileSync(key.file, createPrivateKey(readFileSync(key.file, 'utf8')).export({ type: 'pkcs1', format: 'pem' }));
    expect(readFileSync(key.file, 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const { sim, authenticator } = await setup(key);
    expect((await getLogs(sim, await authenticator.headers('GET', logsUrl(sim)))).status).toBe(200);
  });

  it('caches the token: one token request for many headers() calls, concurrent ones included', async () => {
    const { sim, authenticator } = await setup(await rsaPemKey(tempDir()));
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => authenticator.headers('GET', logsUrl(sim))));
    for (let i = 0; i < 10; i++) await authenticator.headers('GET', logsUrl(sim));
    expect(new Set(concurrent.map((h) => h.authorization)).size).toBe(1);
    expect(tokenRequests(sim)).toHaveLength(1);
  });

  it('refreshes the token before it expires, and the simulator refuses an expired one', async () => {
    const { sim, clock, authenticator } = await setup(await rsaPemKey(tempDir()));
    const first = await authenticator.headers('GET', logsUrl(sim));
    clock.now += 54 * MINUTE;
    expect(await authenticator.headers('GET', logsUrl(sim))).toEqual(first);
    clock.now += 2 * MINUTE; // 56 minutes in: less than 5 minutes left
    const second = await authenticator.headers('GET', logsUrl(sim));
    expect(second.authorization).not.toBe(first.authorization);
    expect(tokenRequests(sim)).toHaveLength(2);
    clock.now += 5 * MINUTE; // the first token is now 61 minutes old
    const expired = await getLogs(sim, first);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ errorCode: 'E0000011' });
    expect(expired.wwwAuthenticate).toMatch(/invalid_token/);
    expect((await getLogs(sim, second)).status).toBe(200);
  });

  it('refreshes a short-lived token at 90% of its life, not on every call', async () => {
    const { sim, clock, authenticator } = await setup(await rsaPemKey(tempDir()), { accessTokenTtlSeconds: 60 });
    const first = await authenticator.headers('GET', logsUrl(sim));
    clock.now += 50_000;
    expect(await authenticator.headers('GET', logsUrl(sim))).toEqual(first);
    clock.now += 5_000;
    expect((await authenticator.headers('GET', logsUrl(sim))).authorization).not.toBe(first.authorization);
  });

  it('with DPoP required: gets use_dpop_nonce, retries with the nonce, and its proofs are accepted by /api/v1/logs', async () => {
    const { sim, clock, authenticator } = await setup(await ecJwkKey(tempDir()), { requireDpop: true }, { dpop: true });
    const headers = await authenticator.headers('GET', logsUrl(sim));
    expect(headers.authorization).toMatch(/^DPoP \S+$/);
    expect(headers.dpop?.split('.')).toHaveLength(3);
    expect(tokenRequests(sim).map((r) => r.status)).toEqual([400, 200]);
    expect((await getLogs(sim, headers)).status).toBe(200);
    expect(sim.requests.at(-1)).toMatchObject({ path: '/api/v1/logs', auth: 'DPoP', status: 200 });
    // Every request gets a fresh proof; the nonce is remembered for the next token request.
    expect((await getLogs(sim, await authenticator.headers('GET', logsUrl(sim)))).status).toBe(200);
    clock.now += 56 * MINUTE;
    expect((await getLogs(sim, await authenticator.headers('GET', logsUrl(sim)))).status).toBe(200);
    expect(tokenRequests(sim).map((r) => r.status)).toEqual([400, 200, 200]);
  });

  it('the simulator refuses a DPoP proof replayed, made for another URL, or missing', async () => {
    const { sim, authenticator } = await setup(await rsaPemKey(tempDir()), { requireDpop: true }, { dpop: true });
    const headers = await authenticator.headers('GET', logsUrl(sim));
    expect((await getLogs(sim, headers)).status).toBe(200);
    const replayed = await getLogs(sim, headers);
    expect(replayed.status).toBe(401);
    expect(replayed.wwwAuthenticate).toMatch(/invalid_dpop_proof/);
    const elsewhere = await authenticator.headers('GET', new URL(`${sim.url}/api/v1/users`));
    expect((await getLogs(sim, elsewhere)).status).toBe(401);
    const fresh = await authenticator.headers('GET', logsUrl(sim));
    expect((await getLogs(sim, { authorization: fresh.authorization as string })).status).toBe(401);
    // A DPoP-bound token cannot be downgraded to a Bearer token.
    expect((await getLogs(sim, { authorization: (fresh.authorization as string).replace(/^DPoP/, 'Bearer') })).status).toBe(401);
  });

  it('without DPoP, an app that requires it refuses with invalid_dpop_proof, not retriable', async () => {
    const { authenticator, sim } = await setup(await rsaPemKey(tempDir()), { requireDpop: true }, { dpop: false });
    const err = await failure(authenticator.headers('GET', logsUrl(sim)));
    expect(err.code).toBe('OF_OAUTH_TOKEN');
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(new RegExp(`^requesting an Okta access token for ${CLIENT_ID}: invalid_dpop_proof `));
  });

  it('a key the app does not know gets OF_OAUTH_TOKEN invalid_client, and the message holds no secret', async () => {
    const dir = tempDir();
    const registered = await rsaPemKey(dir, 'registered.pem');
    const other = await rsaPemKey(dir, 'other.pem');
    const { sim, authenticator } = await setup({ ...other, publicKey: registered.publicKey });
    const err = await failure(authenticator.headers('GET', logsUrl(sim)));
    expect(err.code).toBe('OF_OAUTH_TOKEN');
    expect(err.retriable).toBe(false);
    expect(err.message).toBe(`requesting an Okta access token for ${CLIENT_ID}: invalid_client The client_assertion signature is invalid.`);
    for (const line of (other.pem as string).split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) expect(err.message).not.toContain(line);
    expect(err.message).not.toMatch(/eyJ/); // no JWT (assertion or proof)
    expect(tokenRequests(sim).at(-1)).toMatchObject({ status: 401 });
  });

  it('invalidate() drops the token and re-reads the key file, so a rotated key is used', async () => {
    const dir = tempDir();
    const key = await rsaPemKey(dir);
    const { sim, authenticator } = await setup(key);
    const first = await authenticator.headers('GET', logsUrl(sim));
    await authenticator.invalidate();
    const second = await authenticator.headers('GET', logsUrl(sim));
    expect(second.authorization).not.toBe(first.authorization);
    expect(tokenRequests(sim)).toHaveLength(2);
    // Rotate the file to a key the app does not have: the next token request, after invalidate, uses it.
    writeFileSync(key.file, (await rsaPemKey(dir, 'new.pem')).pem as string);
    expect(await authenticator.headers('GET', logsUrl(sim))).toEqual(second);
    await authenticator.invalidate();
    expect((await failure(authenticator.headers('GET', logsUrl(sim)))).message).toMatch(/invalid_client/);
  });

  it('registers the access token for scrubbing from logs', async () => {
    const { sim, authenticator } = await setup(await rsaPemKey(tempDir()));
    const token = (await authenticator.headers('GET', logsUrl(sim))).authorization?.split(' ')[1] as string;
    expect(scrubSecrets(`sending ${token} to Okta`)).toBe(`sending ${REDACTED} to Okta`);
  });

  it('reports an unreachable token endpoint as a retriable OF_OAUTH_TOKEN error', async () => {
    const key = await rsaPemKey(tempDir());
    const { sim } = await setup(key);
    const url = sim.url;
    await sim.close();
    const authenticator = new OAuthAuthenticator({ baseUrl: url, clientId: CLIENT_ID, privateKeyFile: key.file, dpop: false });
    const err = await failure(authenticator.headers('GET', new URL(`${url}/api/v1/logs`)));
    expect(err.code).toBe('OF_OAUTH_TOKEN');
    expect(err.retriable).toBe(true);
  });

  it('refuses a key file that holds no private key, naming the file and not its content', async () => {
    const dir = tempDir();
    const key = await rsaPemKey(dir);
    writeFileSync(key.file, key.publicKey as string);
    const { sim, authenticator } = await setup(key);
    const err = await failure(authenticator.headers('GET', logsUrl(sim)));
    expect(err.code).toBe('OF_OAUTH_TOKEN');
    expect(err.message).toContain(key.file);
    expect(err.message).not.toContain('BEGIN');
  });
});

describe('simulator: /oauth2/v1/token client assertion checks', () => {
  async function assertionWith(claims: { aud?: string; iss?: string; sub?: string; expInS?: number }, sim: SimulatorHandle, privateKey: CryptoKey) {
    const nowS = Math.floor(T0 / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(claims.iss ?? CLIENT_ID)
      .setSubject(claims.sub ?? CLIENT_ID)
      .setAudience(claims.aud ?? `${sim.url}/oauth2/v1/token`)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + (claims.expInS ?? 300))
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    const res = await request(`${sim.url}/oauth2/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'okta.logs.read',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
      }).toString(),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  }

  it('issues a token for a good assertion and refuses a wrong audience, issuer, an expired one or one valid over an hour', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const sim = await startSimulator({ now: () => T0, oauth: { clientId: CLIENT_ID, publicKey: await exportJWK(publicKey) } });
    running.push(sim);
    const ok = await assertionWith({}, sim, privateKey);
    expect(ok).toMatchObject({ status: 200, body: { token_type: 'Bearer', expires_in: 3600, scope: 'okta.logs.read', access_token: expect.any(String) } });
    for (const claims of [{ aud: 'https://acme.okta.com/oauth2/v1/token' }, { iss: 'someone-else', sub: 'someone-else' }, { expInS: -10 }, { expInS: 2 * 3600 }]) {
      const refused = await assertionWith(claims, sim, privateKey);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ error: 'invalid_client', error_description: expect.any(String) });
    }
  });
});
