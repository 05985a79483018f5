import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { SECRET_ENV_PATHS, SECRET_FILE_PATHS, SENSITIVE_PATHS } from '../../src/config/index.js';
import { settings } from '../../src/config/reference.js';

/** A secret put in one setting, as the forms it may leak in are computed from it. */
export interface Canary {
  /** The setting, as a dotted path of the schema (org settings as okta.orgs[].key). */
  setting: string;
  value: string;
  /** The user name beside it, for the `user:password` forms (HTTP Basic, SASL). */
  username?: string;
}

/**
 * A secret value no output may show: unique hex first (a cut through it still shows 10 known
 * characters), then characters that JSON, URL-encoding and base64 each change.
 */
export function canaryValue(label: string): string {
  return `${randomBytes(8).toString('hex')}-canary-${label.replace(/[^A-Za-z0-9]/g, '')}+/!@end`;
}

/**
 * The forms a secret travels in: as is, JSON-escaped, URL-encoded, base64 (as is and URL-safe),
 * and with its user name `user:password`, URL-encoded and base64 (an HTTP Basic header).
 */
export function carrierForms(canary: Canary): string[] {
  const { value, username } = canary;
  const forms = [
    value,
    JSON.stringify(value).slice(1, -1),
    encodeURIComponent(value),
    new URLSearchParams({ s: value }).toString().slice(2),
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64url'),
  ];
  if (username) {
    const pair = `${username}:${value}`;
    forms.push(pair, `${username}:${encodeURIComponent(value)}`, Buffer.from(pair).toString('base64'));
  }
  return forms;
}

/** What shows a canary leaked: its carrier forms, and the first characters of it and of its base64 (a cut through it). */
export function leakForms(canary: Canary): string[] {
  return [...carrierForms(canary), canary.value.slice(0, 10), Buffer.from(canary.value).toString('base64').slice(0, 12)];
}

/** The canaries' forms found in `text`, named by their setting: [] when nothing leaked. */
export function leaksIn(text: string, canaries: readonly Canary[]): string[] {
  return canaries.flatMap((canary) => leakForms(canary).filter((form) => text.includes(form)).map((form) => `${canary.setting}: ${JSON.stringify(form)}`));
}

function settingDoc(path: string) {
  const found = settings().find(([key]) => key === path);
  if (!found) throw new Error(`no setting ${path} in the schema`);
  return found[1];
}

/** Sets a dotted path in a plain object, creating the objects on the way ("a.b[]" is not handled here). */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node = target;
  for (const key of keys) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[last] = value;
}

function getPath(target: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], target);
}

export interface SecretSettings {
  /** Settings to add to a configuration file (deep-merged by the caller), with the secret files and the orgs. */
  config: Record<string, unknown>;
  /** Environment variables that carry secrets. */
  env: Record<string, string>;
  canaries: Canary[];
}

/**
 * A canary in EVERY secret setting of the schema, enumerated from its declarations, so that a new
 * secret setting is covered without touching the tests: `sensitive` settings through their
 * environment variable (else in the file), `secretFile` settings as a file in `dir` holding one
 * (a real private key, whose private part is the canary, where the setting holds a private key),
 * `secretEnv` settings as a variable holding one. Org settings get an org each, of the
 * authentication method the setting belongs to, at `oktaDomain` (plain HTTP). A secret beside a
 * `username` setting gets a user name, for the `user:password` forms.
 */
export function secretSettings(dir: string, oktaDomain: string, options: { skip?: (setting: string) => boolean } = {}): SecretSettings {
  const config: Record<string, unknown> = {};
  const env: Record<string, string> = {};
  const canaries: Canary[] = [];
  const orgs: Record<string, unknown>[] = [];
  const skip = options.skip ?? (() => false);

  const place = (path: string, value: unknown) => {
    if (!path.startsWith('okta.orgs[].')) return setPath(config, path, value);
    const rest = path.slice('okta.orgs[].'.length);
    const doc = settingDoc(path).doc;
    const org: Record<string, unknown> = {
      id: rest.replace(/[^a-z]/gi, '').toLowerCase(),
      domain: oktaDomain,
      allowInsecureHttp: true,
      pollIntervalSeconds: 1,
      auth: doc.startsWith('oauth:') ? { method: 'oauth', clientId: '0oa-canary-client' } : { method: 'api-token' },
    };
    setPath(org, rest, value);
    orgs.push(org);
  };
  const usernameFor = (path: string): string | undefined => {
    const sibling = `${path.split('.').slice(0, -1).join('.')}.username`;
    if (!settings().some(([key]) => key === sibling)) return undefined;
    const existing = getPath(config, sibling);
    if (typeof existing === 'string') return existing;
    const username = `user-${sibling.split('.')[0]}`;
    setPath(config, sibling, username);
    return username;
  };

  for (const path of SENSITIVE_PATHS) {
    if (skip(path)) continue;
    const value = canaryValue(path);
    const envName = settingDoc(path).env;
    if (envName) env[envName] = value;
    else place(path, value);
    canaries.push({ setting: path, value, username: usernameFor(path) });
  }
  for (const path of SECRET_FILE_PATHS) {
    if (skip(path)) continue;
    const file = join(dir, `${path.replace(/[^A-Za-z0-9]/g, '-')}.secret`);
    let value = canaryValue(path);
    if (/private key/i.test(settingDoc(path).doc)) {
      const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
      value = jwk.d as string;
      writeFileSync(file, JSON.stringify(jwk));
    } else {
      writeFileSync(file, `${value}\n`);
    }
    place(path, file);
    canaries.push({ setting: path, value, username: path.startsWith('okta.') ? undefined : usernameFor(path) });
  }
  for (const path of SECRET_ENV_PATHS) {
    if (skip(path)) continue;
    const name = `CANARY_${path.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;
    const value = canaryValue(path);
    env[name] = value;
    place(path, name);
    canaries.push({ setting: path, value });
  }
  if (orgs.length > 0) setPath(config, 'okta.orgs', orgs);
  return { config, env, canaries };
}

/** Deep merge of plain objects; arrays and other values of `extra` win. */
export function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = result[key];
    result[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return result;
}

export type ReflectionShape = 'json' | 'text' | 'html';

/** Marks the reflected request in an answer: a test checks that the reflection reached the output. */
export const REFLECTION_MARKER = 'reflected-request';

/**
 * A server that answers every request 401 with the request itself, credentials first: what an
 * Okta, registry or Elasticsearch endpoint (or a proxy before one) that echoes the request in its
 * error does. `json` answers in the shape of an Okta, Elasticsearch, Confluent and OAuth error at
 * once; `text` and `html` as an error page (the page's first characters or its title are quoted).
 */
export async function startReflectingServer(shape: ReflectionShape): Promise<{ host: string; url: string; close: () => Promise<void> }> {
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reflection = `${REFLECTION_MARKER} authorization: ${String(request.headers.authorization ?? '')} ${request.method} ${request.url} headers ${JSON.stringify(request.headers)} body ${Buffer.concat(chunks).toString('utf8')}`;
      if (shape === 'json') {
        response.writeHead(401, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            errorCode: 'E0000011',
            errorSummary: reflection,
            error: { type: 'security_exception', reason: reflection },
            error_code: 40101,
            message: reflection,
            error_description: reflection,
          }),
        );
      } else if (shape === 'text') {
        response.writeHead(401, { 'content-type': 'text/plain' }).end(reflection);
      } else {
        response.writeHead(401, { 'content-type': 'text/html' }).end(`<html><head><title>${reflection}</title></head><body>${reflection}</body></html>`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
