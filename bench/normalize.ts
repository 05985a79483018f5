/**
 * Normalization throughput: Okta LogEvents -> OCSF activity documents, events per second.
 * Run with `npx tsx bench/normalize.ts [events]` (default 100,000 simulator events). Not a test: no assertions.
 */
import { normalizeEvent } from '../src/normalize/index.js';
import { startSimulator } from '../src/simulator/index.js';

const count = Number(process.argv[2] ?? 100_000);
const sim = await startSimulator({ seed: 1 });
const events = sim.generate(count) as unknown as Record<string, unknown>[];
await sim.close();

function run(options: { org: string; keepRaw?: boolean }): number {
  const started = process.hrtime.bigint();
  let fields = 0;
  for (const event of events) fields += Object.keys(normalizeEvent(event, options)).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (fields === 0) throw new Error('nothing normalized');
  return count / seconds;
}

run({ org: 'acme.okta.com' }); // warm-up
const plain = run({ org: 'acme.okta.com' });
const withRaw = run({ org: 'acme.okta.com', keepRaw: true });
console.log(`normalizeEvent: ${count} simulator events`);
console.log(`  ${Math.round(plain).toLocaleString('en-US')} events/s`);
console.log(`  ${Math.round(withRaw).toLocaleString('en-US')} events/s with keepRaw`);
