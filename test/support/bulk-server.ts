import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { PROJECT_ROOT } from '../../src/stack/settings.js';

/** A response of a real Elasticsearch, as stored in test/fixtures/elasticsearch (see its README). */
export interface RecordedResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

export function elasticsearchFixture(name: string): RecordedResponse {
  const text = readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'elasticsearch', `${name}.http`), 'utf8');
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string | string[]> = {};
  for (const line of headerLines) {
    const name = line.slice(0, line.indexOf(':')).toLowerCase();
    const value = line.slice(line.indexOf(':') + 1).trim();
    // The replaying server frames the body itself.
    if (name === 'content-length' || name === 'transfer-encoding') continue;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) };
}

/** One `_bulk` request as the server received it: its documents' ids, in order, and its size. */
export interface ReceivedBulk {
  ids: string[];
  bytes: number;
  headers: IncomingHttpHeaders;
}

/** What a real Elasticsearch answers when it indexes every document of the request. */
export function allCreated(request: ReceivedBulk): RecordedResponse {
  const items = request.ids.map((id, i) => ({
    index: { _index: 'replayed', _id: id, _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: i, _primary_term: 1, status: 201 },
  }));
  return { status: 200, headers: { 'x-elastic-product': 'Elasticsearch', 'content-type': 'application/json' }, body: JSON.stringify({ errors: false, took: 1, items }) };
}

/**
 * An HTTP server in the place of Elasticsearch that answers each `_bulk` with what `respond`
 * picks, usually a recorded response, and keeps what it received. The real client talks to it,
 * so its errors and parsing are the ones production sees.
 */
export async function startBulkServer(respond: (request: ReceivedBulk) => RecordedResponse) {
  const received: ReceivedBulk[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const lines = body.split('\n').filter((line) => line !== '');
      const ids = lines.filter((_, i) => i % 2 === 0).map((line) => (JSON.parse(line) as { index: { _id: string } }).index._id);
      const request = { ids, bytes: Buffer.byteLength(body), headers: req.headers };
      received.push(request);
      const response = respond(request);
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    received,
    client: (options: { password?: string } = {}) =>
      new Client({ node: url, maxRetries: 0, ...(options.password ? { auth: { username: 'elastic', password: options.password } } : {}) }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
