import { randomBytes } from 'node:crypto';

/**
 * Okta's error responses, in the shape every Okta API uses (okta-system-log-api.md section 3.1):
 * errorCode, errorSummary, errorLink (= errorCode; "not yet implemented" as a link), errorId (a
 * per-error id for support) and errorCauses (an array of { errorSummary }). Clients must branch on
 * errorCode only; the summaries below are Okta's wording where a source gives it.
 */
export interface OktaErrorResponse {
  status: number;
  body: string;
}

export function oktaError(status: number, errorCode: string, errorSummary: string, causes: readonly string[] = []): OktaErrorResponse {
  return {
    status,
    body: JSON.stringify({
      errorCode,
      errorSummary,
      errorLink: errorCode,
      errorId: `oae${randomBytes(16).toString('base64url').slice(0, 22)}`,
      errorCauses: causes.map((summary) => ({ errorSummary: summary })),
    }),
  };
}

export const invalidToken = (): OktaErrorResponse => oktaError(401, 'E0000011', 'Invalid token provided');

export const forbidden = (): OktaErrorResponse => oktaError(403, 'E0000006', 'You do not have permission to perform the requested action');

/** The System Log doc's wording; the OpenAPI example words it differently (section 2.4). */
export const rateLimited = (): OktaErrorResponse => oktaError(429, 'E0000047', 'API call exceeded rate limit due to too many requests.');

/** Also what a System Log query that ran past its 30 s budget returns. */
export const internalError = (): OktaErrorResponse => oktaError(500, 'E0000009', 'Internal Server Error');

export const invalidPaging = (): OktaErrorResponse => oktaError(400, 'E0000029', 'Invalid paging request. Ensure the pagination cursor has not been altered.');

export const validationFailed = (param: string, cause: string): OktaErrorResponse => oktaError(400, 'E0000001', `Api validation failed: ${param}`, [`${param}: ${cause}`]);

export const invalidParameter = (summary: string): OktaErrorResponse => oktaError(400, 'E0000053', summary);

export const unsupportedFilter = (summary: string): OktaErrorResponse => oktaError(400, 'E0000031', summary);

export const notFound = (path: string): OktaErrorResponse => oktaError(404, 'E0000007', `Not found: Resource not found: ${path} (Path)`);

export const methodNotAllowed = (): OktaErrorResponse => oktaError(405, 'E0000022', 'The endpoint does not support the provided HTTP method');

/** The non-JSON error pages Okta has been seen to send (section 3.3): a forwarder must not assume JSON. */
export function htmlErrorPage(status: number): string {
  const title = status === 404 ? '404 Not Found' : `${status} Internal Server Error`;
  return `<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${title}</title></head>\n<body>\n<h1>${title}</h1>\n<p>Something went wrong. Please try again later.</p>\n<hr><p>okta</p>\n</body>\n</html>\n`;
}
