/**
 * Okta sends `link` headers as separate lines (`<url>; rel="self"`, `<url>; rel="next"`), and
 * some proxies fold them into one comma-separated line. Both are read. URLs are returned as
 * given: the next link is followed verbatim, never rebuilt.
 */
export function parseLinkHeaders(values: string | string[] | undefined): Map<string, string> {
  const links = new Map<string, string>();
  const lines = values === undefined ? [] : Array.isArray(values) ? values : [values];
  for (const line of lines) {
    for (const match of line.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
      const url = match[1] ?? '';
      const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(match[2] ?? '')?.[1];
      if (rel) for (const name of rel.trim().split(/\s+/)) links.set(name.toLowerCase(), url);
    }
  }
  return links;
}
