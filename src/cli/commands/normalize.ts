import { createReadStream } from 'node:fs';
import { loadConfig } from '../../config/index.js';
import { prepareActivity } from '../../normalize/index.js';
import type { CommandContext } from '../context.js';

/**
 * `okta-forwarder normalize [FILE] [--org ID] [--keep-raw]`: Okta events as NDJSON in (stdin when
 * no FILE), activity documents as NDJSON out: a preview of what lands in Elasticsearch, made by
 * the sink's own function (prepareActivity) with the configured index prefix, so each document
 * is exactly the one the sink would index, its `metadata.uid` being the `_id`. Every line gives a
 * document on stdout, or its number and reason on stderr (not JSON, not an object, or an event
 * the sink dead-letters); the exit code is then 1. Lines end at `\n` only (a `\r` inside a line
 * stays in it); a UTF-8 byte order mark before the first line is skipped.
 */
export async function normalizeCommand(context: CommandContext): Promise<number> {
  const [file] = context.positionals;
  const org = typeof context.flags.org === 'string' ? context.flags.org : 'default';
  const { config } = loadConfig({ file: context.configFile });
  const options = { org, keepRaw: context.flags['keep-raw'] === true, indexPrefix: config.elasticsearch.indexPrefix };
  const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  input.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`okta-forwarder normalize: reading ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}\n`);
    process.exit(2);
  });
  let lineNumber = 0;
  let failed = 0;
  const refuse = (reason: string) => {
    failed += 1;
    process.stderr.write(`line ${lineNumber}: ${reason}\n`);
  };
  for await (const text of ndjsonLines(input)) {
    lineNumber += 1;
    if (text.trim() === '') continue;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (err) {
      refuse(`not JSON: ${(err as Error).message.replace(/, .* is not valid JSON$/s, '')}`);
      continue;
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      refuse('not a JSON object');
      continue;
    }
    const prepared = prepareActivity(event, options);
    if (!prepared.ok) {
      refuse(`${prepared.reason} (the sink dead-letters this event)`);
      continue;
    }
    if (!process.stdout.write(`${JSON.stringify(prepared.document)}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  return failed === 0 ? 0 : 1;
}

/**
 * The lines of an NDJSON stream, split at `\n` only: a lone `\r` is JSON whitespace, not a line
 * end, and must not shift the numbers of the lines after it. A leading byte order mark is dropped.
 * A long line is gathered in pieces, never rescanned: linear in its length.
 */
async function* ndjsonLines(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  input.setEncoding('utf8');
  let pieces: string[] = [];
  let first = true;
  for await (const chunk of input as AsyncIterable<string>) {
    let text = chunk;
    if (first && text.startsWith('\uFEFF')) text = text.slice(1);
    first = false;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      pieces.push(text.slice(start, end));
      yield pieces.join('');
      pieces = [];
      start = end + 1;
    }
    pieces.push(text.slice(start));
  }
  const last = pieces.join('');
  if (last !== '') yield last;
}
