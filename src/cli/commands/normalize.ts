import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ForwarderError } from '../../errors.js';
import { normalizeEvent } from '../../normalize/index.js';
import type { CommandContext } from '../context.js';

/**
 * `okta-forwarder normalize [FILE] [--org ID] [--keep-raw]`: Okta events as NDJSON in (stdin when
 * no FILE), activity documents as NDJSON out: a preview of what lands in Elasticsearch. A line
 * that is not an event, or that the sink would dead-letter, is reported on stderr with its number
 * and skipped; the exit code is then 1.
 */
export async function normalizeCommand(context: CommandContext): Promise<number> {
  const [file] = context.positionals;
  const org = typeof context.flags.org === 'string' ? context.flags.org : 'default';
  const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  input.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`okta-forwarder normalize: reading ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}\n`);
    process.exit(2);
  });
  let lineNumber = 0;
  let failed = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    lineNumber += 1;
    if (text.trim() === '') continue;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (err) {
      failed += 1;
      process.stderr.write(`line ${lineNumber}: not JSON: ${(err as Error).message.replace(/, .* is not valid JSON$/s, '')}\n`);
      continue;
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      failed += 1;
      process.stderr.write(`line ${lineNumber}: not a JSON object\n`);
      continue;
    }
    try {
      const document = normalizeEvent(event as Record<string, unknown>, { org, keepRaw: context.flags['keep-raw'] === true });
      if (!process.stdout.write(`${JSON.stringify(document)}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
    } catch (err) {
      failed += 1;
      const reason = err instanceof ForwarderError ? err.message : `unexpected: ${(err as Error).message}`;
      process.stderr.write(`line ${lineNumber}: ${reason} (the sink dead-letters this event)\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}
