import { errors as undiciErrors } from 'undici';
import { scrubSecrets } from './logging/secrets.js';

/**
 * How the HTTP clients (Okta, the schema registry) say what went wrong, in the words an operator
 * acts on: a failed connection by its cause, an error page by its title, never a whole page.
 */

/**
 * Error pages are sometimes HTML (a gone org, a proxy): say so, with the page's title, never the
 * whole page. The body is scrubbed before an excerpt is cut from it: a server that echoes the
 * request echoes its credentials, and a cut through one would leave a part the scrubber cannot match.
 */
export function describeBody(answer: string, headers: Record<string, string | string[] | undefined>): string {
  const body = scrubSecrets(answer);
  const type = String(headers['content-type'] ?? 'no content type').split(';')[0];
  const title = /<title[^>]{0,200}>([^<]{0,120})/i.exec(body)?.[1]?.trim();
  if (title) return `an HTML page titled ${JSON.stringify(title)}`;
  if (body.trim() === '') return `an empty ${type} body`;
  return `a ${type} body starting ${JSON.stringify(body.slice(0, 80))}`;
}

/**
 * A request that got no answer: DNS, refused, reset, TLS, timeouts. `peer` names who did not
 * answer ("Okta"); `hostHint` says where the host name comes from ("check the domain").
 */
export function describeNetworkError(err: unknown, peer: string, hostHint: string): string {
  const error = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = error.code ?? error.cause?.code;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return `timed out waiting for ${peer}`;
  if (err instanceof undiciErrors.ConnectTimeoutError) return 'timed out connecting';
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (DNS); ${hostHint}`;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was reset';
    default:
      if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED/.test(code)) return `TLS failed (${code}); check the certificate chain`;
      return error.message || String(err);
  }
}
