import { readFileSync } from 'node:fs';
import { ForwarderError } from '../errors.js';
import { registerSecret } from '../logging/secrets.js';

/**
 * Returns a secret from its file when one is configured (read at each call, so a rotated file is
 * picked up), else the inline value (set through an environment variable). The value is
 * registered for scrubbing before it is returned. Errors name the file, never the content.
 */
export function readSecret(source: { value?: string; file?: string }, what: string): string {
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
    registerSecret(content);
    return content;
  }
  const value = source.value ?? '';
  registerSecret(value);
  return value;
}
