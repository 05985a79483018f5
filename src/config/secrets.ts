import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { resolve } from 'node:path';
import { ForwarderError } from '../errors.js';
import { registerCredentials, registerSecret, URL_USERINFO } from '../logging/secrets.js';
import { SENSITIVE_PATHS } from './redact.js';
import { settings } from './reference.js';
import { ENV_NAME } from './schema.js';

/** Dotted paths (org settings as okta.orgs[].key) of the settings that name a file holding a secret. */
export const SECRET_FILE_PATHS: readonly string[] = settings()
  .filter(([, setting]) => setting.secretFile === true)
  .map(([path]) => path);

/** Dotted paths of the settings that name an environment variable holding a secret. */
export const SECRET_ENV_PATHS: readonly string[] = settings()
  .filter(([, setting]) => setting.secretEnv === true)
  .map(([path]) => path);

/**
 * Returns a secret from its file when one is configured (read at each call, so a rotated file is
 * picked up), else the inline value (set through an environment variable). The value, and with a
 * `username` the pair `username:value`, is registered for scrubbing before it is returned. Errors
 * name the file, never the content.
 */
export function readSecret(source: { value?: string; file?: string; username?: string }, what: string): string {
  if (source.file) {
    let content: string;
    try {
      content = readFileSync(source.file, 'utf8').trim();
    } catch (err) {
      throw new ForwarderError('OF_SECRET_UNREADABLE', `reading ${what} from ${source.file}: ${(err as NodeJS.ErrnoException).code ?? 'failed'}`, {
        retriable: true,
      });
    }
    if (content === '') throw new ForwarderError('OF_SECRET_UNREADABLE', `reading ${what} from ${source.file}: the file is empty`, { retriable: true });
    registerCredentials(source.username, content);
    return content;
  }
  const value = source.value ?? '';
  registerCredentials(source.username, value);
  return value;
}

/**
 * A PEM file a TLS setting names (a CA, a certificate, a private key), read when a client is made:
 * a missing or unreadable file is an error that names the setting; the content (a key is a
 * secret) is never quoted.
 */
export function readTlsFile(setting: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ForwarderError('OF_CONFIG_UNREADABLE', `reading ${setting} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'failed'}`, { cause: err });
  }
}

/**
 * Registers every secret a configuration holds or points to, from its values before validation
 * (a validation message may quote any value): the values of `sensitive` settings, the content of
 * the files named by `secretFile` settings (relative to `baseDir`), the variables named by
 * `secretEnv` settings, and credentials written into any URL (`https://user:password@host`). A
 * secret beside a `username` is registered as `username:secret` too (HTTP Basic, SASL). Never
 * throws: what cannot be read here, the validation reports.
 */
export function registerConfigSecrets(values: Record<string, unknown>, env: NodeJS.ProcessEnv, baseDir: string): void {
  for (const path of SENSITIVE_PATHS) {
    for (const { value, parent } of valuesAt(values, path)) {
      forEachText(value, (text) => registerCredentials(usernameBeside(parent), text));
    }
  }
  for (const path of SECRET_FILE_PATHS) {
    for (const { value, parent } of valuesAt(values, path)) {
      if (typeof value === 'string' && value !== '') registerCredentials(usernameBeside(parent), readQuietly(resolve(baseDir, value)));
    }
  }
  for (const path of SECRET_ENV_PATHS) {
    for (const { value } of valuesAt(values, path)) {
      if (typeof value !== 'string' || value === '') continue;
      // Not a variable's name: most likely the secret itself, pasted where the name belongs.
      registerSecret(ENV_NAME.test(value) ? env[value] : value);
    }
  }
  forEachText(values, registerUrlCredentials);
}

/** `user:password@host` without a scheme (a broker address); "name@host" alone is an e-mail address. */
const BARE_USERINFO = /^\s*([^\s/?#@:]{1,512}:[^\s/?#@]{1,512})@/;

function registerUrlCredentials(text: string): void {
  const userinfos = [...text.matchAll(URL_USERINFO)].map((match) => match[2] as string);
  const bare = BARE_USERINFO.exec(text)?.[1];
  if (bare !== undefined) userinfos.push(bare);
  for (const userinfo of userinfos) {
    registerSecret(userinfo);
    const colon = userinfo.indexOf(':');
    if (colon < 0) registerSecret(decodeQuietly(userinfo));
    else registerCredentials(decodeQuietly(userinfo.slice(0, colon)), decodeQuietly(userinfo.slice(colon + 1)));
  }
}

function decodeQuietly(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A secret file's content; undefined when it is not a readable regular file of a sensible size. */
function readQuietly(path: string): string | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile() || stat.size > 1_000_000) return undefined;
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The values at a dotted path, each with the object holding it; a "key[]" segment walks every element of a list. */
function valuesAt(root: unknown, path: string): { value: unknown; parent: Record<string, unknown> }[] {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let nodes: unknown[] = [root];
  for (const key of keys) {
    const list = key.endsWith('[]');
    const name = list ? key.slice(0, -2) : key;
    nodes = nodes.flatMap((node) => {
      const child = isRecord(node) ? node[name] : undefined;
      return list ? (Array.isArray(child) ? (child as unknown[]) : []) : [child];
    });
  }
  return nodes.filter(isRecord).map((parent) => ({ value: parent[last], parent }));
}

function usernameBeside(parent: Record<string, unknown>): string | undefined {
  return typeof parent.username === 'string' ? parent.username : undefined;
}

/** Every string, number and boolean in a value, as text: a secret set to something other than a string is still quoted by a message. */
function forEachText(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (typeof value === 'number' || typeof value === 'boolean') visit(String(value));
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) forEachText(item, visit);
}

/**
 * Notices when secret files change (a rotated token, a fixed password), so whoever waits for an
 * operator's fix can try again at once instead of at the end of a long backoff. Polls each file's
 * stat once a second (fs.watchFile): unlike fs.watch it sees files replaced by rename and the
 * symlink swaps of Kubernetes secrets, and it does not keep the process alive.
 */
export class SecretFileWatcher {
  private waiters: (() => void)[] = [];
  private readonly listener = () => {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  };

  constructor(private readonly files: readonly string[]) {
    for (const file of files) watchFile(file, { interval: 1000, persistent: false }, this.listener);
  }

  /** Resolves at the next change of any of the files; never, when there are none. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    for (const file of this.files) unwatchFile(file, this.listener);
    this.listener();
  }
}
