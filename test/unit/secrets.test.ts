import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, Gauge } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, SECRET_ENV_PATHS, SECRET_FILE_PATHS, SENSITIVE_PATHS } from '../../src/config/index.js';
import { ConfigError, ForwarderError } from '../../src/errors.js';
import { describeBody } from '../../src/http-errors.js';
import { deadLetterMessage } from '../../src/kafka/messages.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { clearSecrets, registerCredentials, registerRotatingSecret, registerSecret, scrubRegisteredSecrets, scrubSecrets } from '../../src/logging/secrets.js';
import { canaryValue, carrierForms, leaksIn, merge, secretSettings, type Canary } from '../support/secrets.js';
import { tempDir } from '../support/temp.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('the scrubber', () => {
  afterEach(() => clearSecrets());

  it('replaces a registered secret in every form it takes on the way out', () => {
    const canary: Canary = { setting: 'a password', value: canaryValue('scrubber'), username: 'forwarder' };
    registerCredentials(canary.username, canary.value);
    const pair = `${canary.username}:${canary.value}`;
    const carriers = [
      ...carrierForms(canary),
      // Inside a longer base64 text, at each offset modulo 3 (the secret is encoded differently at each).
      b64(`x${canary.value}yz`),
      b64(`xy${canary.value}z`),
      Buffer.from(`x${pair}`).toString('base64url'),
      `Authorization: Basic ${b64(pair)}`,
      `http://${canary.username}:${encodeURIComponent(canary.value)}@es.internal:9200/`,
      `a form: password=${new URLSearchParams({ p: canary.value }).toString().slice(2).toLowerCase()}`,
      `${encodeURIComponent(canary.value).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())}`,
    ];
    for (const text of carriers) {
      const scrubbed = scrubSecrets(`before ${text} after`);
      expect(leaksIn(scrubbed, [canary]), `${text} -> ${scrubbed}`).toEqual([]);
      expect(scrubbed).toContain('[REDACTED]');
    }
  });

  it('masks what has the shape of a credential even when its value was never registered', () => {
    const echoed = [
      'authorization: SSWS 00Qm1vbXBmZmtoV1p3dGU2NlJQb2Zr-x',
      '"authorization":"Bearer eyJraWQiOiJhIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"',
      'Authorization: DPoP eyJhbGciOiJFUzI1NiJ9.eyJodG0iOiJHRVQifQ.c2ln',
      'Authorization: ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
      'Authorization: Basic dXNlcjpodW50ZXIy',
      'GET https://svc-user:hunter2-plain@registry.internal:8081/subjects',
    ];
    for (const text of echoed) {
      const scrubbed = scrubSecrets(text);
      expect(scrubbed).toContain('[REDACTED]');
      expect(scrubbed).not.toMatch(/00Qm1v|eyJzdWIi|eyJodG0i|VnVhQ2ZH|dXNlcjpo|hunter2/);
    }
    expect(scrubSecrets('https://svc-user:hunter2-plain@registry.internal:8081/')).toBe('https://svc-user:[REDACTED]@registry.internal:8081/');
    // Prose and plain URLs stay as they are.
    for (const prose of ['Basic authentication failed', 'the Bearer token expired', 'https://acme.okta.com/api/v1/logs?limit=1', 'mailto:admin@example.com']) {
      expect(scrubSecrets(prose)).toBe(prose);
    }
  });

  it('scrubs a secret before an excerpt is cut from a server answer, so no prefix of it is left', () => {
    const canary: Canary = { setting: 'token', value: canaryValue('excerpt') };
    registerSecret(canary.value);
    // The first 80 characters of this page end inside the token.
    const page = `${'x'.repeat(70)} token ${canary.value} and more`;
    const described = describeBody(page, { 'content-type': 'text/plain' });
    expect(leaksIn(described, [canary])).toEqual([]);
    const title = describeBody(`<html><title>${'y'.repeat(100)}${canary.value}</title></html>`, { 'content-type': 'text/html' });
    expect(leaksIn(title, [canary])).toEqual([]);
  });

  it('keeps the newest rotating secrets (OAuth access tokens) and forgets the oldest', () => {
    const tokens = Array.from({ length: 40 }, (_, i) => `access-token-${i}-${canaryValue('rotating')}`);
    for (const token of tokens) registerRotatingSecret(token);
    expect(scrubSecrets(tokens[39] as string)).toBe('[REDACTED]');
    expect(scrubSecrets(b64(tokens[39] as string))).toBe('[REDACTED]');
    expect(scrubSecrets(tokens[0] as string)).toBe(tokens[0]);
  });

  it('leaves data that merely looks like a credential alone where only registered secrets are scrubbed (normalize output)', () => {
    registerSecret(canaryValue('data'));
    const event = '{"debugContext":{"debugData":{"requestUri":"https://x/?a=1","note":"Bearer 1234567890abcdef"}}}';
    expect(scrubRegisteredSecrets(event)).toBe(event);
  });

  it('scrubs error messages as they are made, and every problem of a configuration error', () => {
    const canary = canaryValue('error');
    registerSecret(canary);
    expect(new ForwarderError('OF_ELASTICSEARCH', `indexing: the server said ${canary}`).message).toBe('indexing: the server said [REDACTED]');
    const error = new ConfigError('test', [`a: value was ${JSON.stringify(canary)}`]);
    expect(error.message).not.toContain(canary);
    expect(error.problems.join('\n')).not.toContain(canary);
  });

  it('scrubs the reason and every header of a dead letter, before the reason is cut to its limit', () => {
    const canary: Canary = { setting: 'token', value: canaryValue('dead-letter') };
    registerSecret(canary.value);
    const message = deadLetterMessage('acme', '{"uuid":"u"}', {
      stage: 'index',
      reason: `${'r'.repeat(990)}${canary.value}`,
      'source.file': `/tmp/${canary.value}.ndjson`,
    });
    const headers = JSON.stringify(message.headers);
    expect(leaksIn(headers, [canary])).toEqual([]);
    expect(String(message.headers?.reason).length).toBeLessThanOrEqual(1000);
  });

  it('serves /metrics and /readyz scrubbed', async () => {
    const canary: Canary = { setting: 'token', value: canaryValue('metrics') };
    registerSecret(canary.value);
    const registry = new Registry();
    new Gauge({ name: 'canary_test_gauge', help: `help ${canary.value}`, labelNames: ['reason'], registers: [registry] }).set({ reason: `label ${canary.value}` }, 1);
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry, readiness: () => ({ ready: false, detail: { waitingFor: `Okta: SSWS ${canary.value}` } }) });
    try {
      const { port } = server.address() as { port: number };
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const readyz = await (await fetch(`http://127.0.0.1:${port}/readyz`)).text();
      expect(metrics).toContain('canary_test_gauge');
      expect(readyz).toContain('waitingFor');
      expect(leaksIn(metrics + readyz, [canary])).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('secrets of the configuration', () => {
  afterEach(() => clearSecrets());

  it('enumerates the secret settings from the schema: values, files and variables', () => {
    expect(SENSITIVE_PATHS).toEqual(expect.arrayContaining(['kafka.sasl.password', 'schemaRegistry.password', 'elasticsearch.auth.password', 'elasticsearch.auth.apiKey']));
    expect(SECRET_FILE_PATHS).toEqual(
      expect.arrayContaining([
        'kafka.sasl.passwordFile',
        'kafka.tls.keyFile',
        'schemaRegistry.passwordFile',
        'elasticsearch.auth.passwordFile',
        'elasticsearch.auth.apiKeyFile',
        'okta.orgs[].auth.tokenFile',
        'okta.orgs[].auth.privateKeyFile',
      ]),
    );
    expect(SECRET_ENV_PATHS).toEqual(['okta.orgs[].auth.tokenEnv']);
  });

  it('does not quote a token pasted where the name of its environment variable belongs', () => {
    const token = `00${canaryValue('pasted').replace(/[^A-Za-z0-9]/g, '')}`;
    const dir = tempDir();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ okta: { orgs: [{ id: 'acme', domain: 'acme.okta.com', auth: { tokenEnv: token } }] } }));
    expect(() => loadConfig({ file, env: {} })).toThrow(/okta\.orgs\[0\]\.auth\.tokenEnv: must be the name of an environment variable/);
    try {
      loadConfig({ file, env: {} });
    } catch (err) {
      expect((err as Error).message).not.toContain(token.slice(0, 12));
    }
  });

  it('knows every secret before validating: an invalid configuration, with a canary in every secret setting and credentials in the URLs, shows none', () => {
    const dir = tempDir();
    const secrets = secretSettings(dir, 'acme.okta.com');
    const esUrl: Canary = { setting: 'ELASTICSEARCH_URL', value: canaryValue('es-url'), username: 'es-user' };
    const registryUrl: Canary = { setting: 'SCHEMA_REGISTRY_URL', value: canaryValue('registry-url'), username: 'registry-user' };
    const file = join(dir, 'config.json');
    // Invalid in many ways at once, each of which makes a message.
    writeFileSync(file, JSON.stringify(merge(secrets.config, { kafka: { brokers: ['not a broker'] }, elasticsearch: { indexPrefix: 'UPPER' }, unknownSetting: 1 })));
    const env = {
      ...secrets.env,
      ELASTICSEARCH_URL: `https://${esUrl.username}:${encodeURIComponent(esUrl.value)}@es.internal:9200`,
      SCHEMA_REGISTRY_URL: `https://${registryUrl.username}:${encodeURIComponent(registryUrl.value)}@registry.internal:8081`,
    };
    let error: unknown;
    try {
      loadConfig({ file, env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('elasticsearch.nodes');
    expect(message).toContain('schemaRegistry.url');
    const canaries = [...secrets.canaries, esUrl, registryUrl];
    expect(leaksIn(message, canaries)).toEqual([]);
    // Every secret was registered although the configuration was refused: nothing printed later shows one either.
    for (const canary of canaries) {
      for (const form of carrierForms(canary)) expect(scrubSecrets(`x ${form} y`), `${canary.setting}: ${form}`).not.toContain(form);
    }
  });
});
