import { relative } from 'node:path';
import { expect } from 'vitest';
import { Random } from '../../src/simulator/random.js';
import { PROJECT_ROOT } from './cli.js';

/** The environment variable that replays a seeded test: set it to the seed a run printed. */
export const TEST_SEED_ENV = 'OKTA_FORWARDER_TEST_SEED';

/** The seed of a seeded test: printed when it starts and appended to every failure message. */
export interface TestSeed {
  seed: number;
  /** Every random choice of the test (kill moments, outage lengths, the simulator's seed) comes from here. */
  random: Random;
  /** "seed 123 (replay: OKTA_FORWARDER_TEST_SEED=123 npx vitest run … <file> -t <test>)". */
  replay: string;
}

/**
 * A seeded random source for a test that injects faults at random moments: the seed is
 * OKTA_FORWARDER_TEST_SEED when set, else the test's fixed default, so a failing run can be run
 * again with the same choices. What the processes do between the choices still depends on the
 * machine's timing; the seed fixes what the test does.
 */
export function testSeed(fallback: number): TestSeed {
  const raw = process.env[TEST_SEED_ENV];
  const seed = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`${TEST_SEED_ENV} must be an integer from 0 to 4294967295; value was ${JSON.stringify(raw)}`);
  }
  const { testPath, currentTestName } = expect.getState();
  const title = currentTestName?.split(' > ').at(-1) ?? '';
  const file = testPath ? relative(PROJECT_ROOT, testPath) : '';
  const replay = `seed ${seed} (replay: ${TEST_SEED_ENV}=${seed} npx vitest run ${file} -t ${JSON.stringify(title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))})`;
  console.info(replay);
  return { seed, random: new Random(seed), replay };
}

/** Runs a test body; a failure's message ends with the seed, so the report says how to replay it. */
export async function withSeed<T>(seed: TestSeed, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof Error && !err.message.includes(seed.replay)) err.message = `${err.message}\n[${seed.replay}]`;
    throw err;
  }
}
