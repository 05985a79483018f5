import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiTokenAuthenticator } from '../../src/okta/auth.js';
import { OktaClient, OktaError } from '../../src/okta/client.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { tempDir } from '../support/temp.js';

describe('the Okta client against the simulator', () => {
  let sim: SimulatorHandle;
  let client: OktaClient | undefined;
  afterEach(async () => {
    await client?.close();
    await sim?.close();
  });

  async function setUp(tokens: string[], fileToken = tokens[0]!) {
    sim = await startSimulator({ apiTokens: tokens, rateLimitPerMinute: 120 });
    sim.generate(30, { from: Date.now() - 3_600_000, to: Date.now() - 1000 });
    const tokenFile = join(tempDir(), 'token');
    writeFileSync(tokenFile, `${fileToken}\n`);
    client = new OktaClient({ domain: sim.domain, allowInsecureHttp: true, authenticator: new ApiTokenAuthenticator({ tokenFile }) });
    return { client, tokenFile };
  }

  const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('expected a failure'), (err: unknown) => err as OktaError);

  it('reads a polling page with its events, next link and rate-limit headers', async () => {
    const { client } = await setUp(['token-1111']);
    const page = await client.getPage(client.pollingUrl(new Date(Date.now() - 7_200_000), 20));
    expect(page.events).toHaveLength(20);
    expect(page.nextUrl).toMatch(new RegExp(`^${sim.url}/api/v1/logs\\?.*after=`));
    expect(page.rateLimit).toMatchObject({ limit: 120, remaining: 119 });
    expect(sim.requests[0]?.query).toMatchObject({ sortOrder: 'ASCENDING', limit: '20' });
  });

  it('refuses a next link that points to another host, without sending anything there', async () => {
    const { client } = await setUp(['token-1111']);
    const err = await failure(client.getPage('http://attacker.example/api/v1/logs?after=x'));
    expect(err.code).toBe('OF_OKTA_FOREIGN_HOST');
    expect(err.message).toContain(`refusing http://attacker.example, which is not the org's own ${sim.url}`);
    expect(sim.requests).toHaveLength(0);
  });

  it('talks HTTPS unless allowInsecureHttp is set for the simulator', async () => {
    await setUp(['token-1111']);
    const strict = new OktaClient({ domain: sim.domain, allowInsecureHttp: false, authenticator: new ApiTokenAuthenticator({ tokenEnv: 'X', env: { X: 'token-1111' } }) });
    expect(strict.origin).toBe(`https://${sim.domain}`);
    const err = await failure(strict.getPage(strict.pollingUrl(new Date())));
    expect(err.code).toBe('OF_OKTA_UNREACHABLE');
    await strict.close();
  });

  it('re-reads a rotated token file after a 401 and retries once', async () => {
    const { client, tokenFile } = await setUp(['old-token-1111']);
    await client.getPage(client.pollingUrl(new Date(Date.now() - 7_200_000)));
    sim.revokeToken('old-token-1111');
    sim.addToken('new-token-2222');
    writeFileSync(tokenFile, 'new-token-2222\n');
    const page = await client.getPage(client.pollingUrl(new Date(Date.now() - 7_200_000)));
    expect(page.events.length).toBeGreaterThan(0);
    expect(sim.requests.map((r) => r.status)).toEqual([200, 401, 200]);
  });

  it('explains a 401 that persists, a 403 and a 429 in terms an operator can act on', async () => {
    const { client } = await setUp(['token-1111'], 'wrong-token-3333');
    const unauthorized = await failure(client.getPage(client.pollingUrl(new Date())));
    expect(unauthorized.code).toBe('OF_OKTA_UNAUTHORIZED');
    expect(unauthorized.message).toMatch(/answered 401 E0000011 .* to the API token from .*token: .*Create a new one/);
    expect(unauthorized.message).not.toContain('wrong-token-3333');

    sim.addToken('wrong-token-3333');
    sim.injectFaults('forbidden', 1);
    const forbidden = await failure(client.getPage(client.pollingUrl(new Date())));
    expect(forbidden.code).toBe('OF_OKTA_FORBIDDEN');
    expect(forbidden.message).toMatch(/403 E0000006 .*okta\.logs\.read scope granted and an admin role assigned/);

    sim.injectFaults('rate-limit', 1);
    const limited = await failure(client.getPage(client.pollingUrl(new Date())));
    expect(limited.code).toBe('OF_OKTA_RATE_LIMITED');
    expect(limited.details.retryAtMs).toBe(limited.details.rateLimit?.resetAtMs);
    expect(limited.details.retryAtMs).toBeGreaterThan(Date.now() - 1000);
  });

  it('handles error pages that are HTML, not JSON', async () => {
    const { client } = await setUp(['token-1111']);
    sim.injectFaults('html', 1);
    const err = await failure(client.getPage(client.pollingUrl(new Date())));
    expect(err.code).toBe('OF_OKTA_UNREACHABLE');
    expect(err.message).toMatch(/answered 500 with an HTML page titled/);
  });

  it('reports a refused connection as unreachable', async () => {
    const { client } = await setUp(['token-1111']);
    await sim.close();
    const err = await failure(client.getPage(client.pollingUrl(new Date())));
    expect(err.code).toBe('OF_OKTA_UNREACHABLE');
    expect(err.message).toMatch(/connection refused|reset/);
  });
});
