import { readSecret } from '../config/index.js';
import { ForwarderError } from '../errors.js';

/**
 * How a request to Okta is authenticated. The Okta client calls `headers` before every request
 * and `invalidate` when Okta answers 401, then retries once with fresh headers; a second 401
 * makes the connector `unauthorized`.
 *
 * Implementations: ApiTokenAuthenticator (SSWS, below) and OAuthAuthenticator (src/okta/oauth.ts:
 * client credentials with a private_key_jwt assertion, optionally DPoP).
 */
export interface Authenticator {
  /** Headers that authenticate `method url` (Authorization, and DPoP when the app requires it). */
  headers(method: string, url: URL): Promise<Record<string, string>>;
  /** Okta refused the credentials: forget what is cached (re-read the token file, drop the access token). */
  invalidate(): Promise<void>;
  /** For messages and logs, never the secret: "API token from /run/secrets/acme". */
  readonly description: string;
  /** The files the secrets come from: a change there may fix an `unauthorized` connector at once. */
  readonly secretFiles: readonly string[];
}

/**
 * SSWS API token, from an environment variable or a file. The file is read at start and again
 * after every 401, so a rotated token is picked up without a restart.
 */
export class ApiTokenAuthenticator implements Authenticator {
  readonly description: string;
  readonly secretFiles: readonly string[];
  private token: string | undefined;

  constructor(private readonly source: { tokenEnv?: string; tokenFile?: string; env?: NodeJS.ProcessEnv }) {
    this.description = source.tokenFile ? `API token from ${source.tokenFile}` : `API token from $${source.tokenEnv}`;
    this.secretFiles = source.tokenFile ? [source.tokenFile] : [];
  }

  async headers(): Promise<Record<string, string>> {
    this.token ??= this.read();
    return { authorization: `SSWS ${this.token}` };
  }

  async invalidate(): Promise<void> {
    this.token = undefined;
  }

  private read(): string {
    const { tokenEnv, tokenFile, env = process.env } = this.source;
    const token = tokenFile ? readSecret({ file: tokenFile }, 'the Okta API token') : readSecret({ value: tokenEnv ? env[tokenEnv] : '' }, 'the Okta API token');
    if (token === '') {
      throw new ForwarderError('OF_OKTA_UNAUTHORIZED', `reading the Okta API token: ${this.description} is empty`, { retriable: true });
    }
    return token;
  }
}
