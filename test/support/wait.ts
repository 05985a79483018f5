import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';

/**
 * Polls until `condition` returns a truthy value, and returns it; never a fixed sleep. `what` is
 * a function when the timeout's message should show the state at the timeout (a process's output).
 */
export async function waitFor<T>(condition: () => T | Promise<T>, what: string | (() => string), timeoutMs = 30_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** A name no other test (or earlier run) uses: topics, groups, indices, transactional ids. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
