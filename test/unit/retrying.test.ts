import { describe, expect, it } from 'vitest';
import { RetryAborted, retrying } from '../../src/retry.js';

const instant = { initialMs: 0, maxMs: 0, multiplier: 2 };

describe('retrying', () => {
  it('retries retriable failures until the action succeeds, reporting each wait', async () => {
    const heard: number[] = [];
    const result = await retrying(
      async (attempt) => {
        if (attempt < 3) throw Object.assign(new Error(`attempt ${attempt}`), { retriable: true });
        return attempt;
      },
      { what: 'testing', policy: instant, onRetry: (_err, attempt) => heard.push(attempt) },
    );
    expect(result).toBe(3);
    expect(heard).toEqual([1, 2]);
  });

  it('throws an error that says it is not retriable at once', async () => {
    let attempts = 0;
    const refused = Object.assign(new Error('refused'), { retriable: false });
    await expect(
      retrying(
        async () => {
          attempts += 1;
          throw refused;
        },
        { what: 'testing', policy: instant },
      ),
    ).rejects.toBe(refused);
    expect(attempts).toBe(1);
  });

  it('lets the server say how long to wait, over the policy', async () => {
    const waits: number[] = [];
    await retrying(
      async (attempt) => {
        if (attempt === 1) throw Object.assign(new Error('429'), { retryAfterMs: 7 });
      },
      { what: 'testing', policy: { initialMs: 60_000, maxMs: 60_000, multiplier: 1 }, delayHintMs: (err) => (err as { retryAfterMs?: number }).retryAfterMs, onRetry: (_e, _a, ms) => waits.push(ms) },
    );
    expect(waits).toEqual([7]);
  });

  it('stops waiting when its signal aborts, with RetryAborted', async () => {
    const stop = new AbortController();
    const pending = retrying(
      async () => {
        throw new Error('down');
      },
      { what: 'waiting for a server', policy: { initialMs: 60_000, maxMs: 60_000, multiplier: 1 }, signal: stop.signal, onRetry: () => setTimeout(() => stop.abort(), 5) },
    );
    await expect(pending).rejects.toBeInstanceOf(RetryAborted);
    await expect(pending).rejects.toThrow('waiting for a server: stopped while waiting to retry');
  });

  it('gives up after maxAttempts with the last error', async () => {
    let attempts = 0;
    await expect(
      retrying(
        async () => {
          attempts += 1;
          throw new Error(`failure ${attempts}`);
        },
        { what: 'testing', policy: instant, maxAttempts: 3 },
      ),
    ).rejects.toThrow('failure 3');
  });
});
