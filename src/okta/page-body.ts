import { describeBody } from '../http-errors.js';

/**
 * A 200 answer whose body is not a page of events. The Okta client turns it into
 * OF_OKTA_BAD_RESPONSE with the org and path; `problem` says what the body is instead.
 */
export class PageBodyError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'PageBodyError';
  }
}

/** The items of a System Log page: the body must be a JSON array (of events, in principle; items are checked later). */
export function readPageItems(body: Buffer, contentType: string): unknown[] {
  const text = body.toString('utf8');
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch {
    throw new PageBodyError(`a body that is not JSON (${describeBody(text, { 'content-type': contentType })})`);
  }
  if (!Array.isArray(items)) throw new PageBodyError('JSON that is not an array of events');
  return items;
}
