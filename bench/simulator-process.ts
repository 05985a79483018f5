/**
 * Simulated Okta orgs in a process of their own, for the benchmarks (see startSimulatedOrgs in
 * support.ts): argv[2] is a JSON array of SimulatedOrgSpec plus each org's token; writes the
 * orgs' domains as one JSON line on stdout once their history is stored and live traffic runs;
 * then, for each line read on stdin, one JSON line of each org's /api/v1/logs requests (OrgRequests).
 * BENCH_SIMULATOR_TRACE=1 also writes each request's time (ms within 100 s) and status on stderr:
 * what showed where a rate-limited backfill lost time.
 */
import { createInterface } from 'node:readline';
import { startSimulator } from '../src/simulator/index.js';
import type { OrgRequests, SimulatedOrgSpec } from './support.js';

const specs = JSON.parse(process.argv[2] ?? '[]') as (SimulatedOrgSpec & { token: string })[];
const DAY_MS = 86_400_000;
const simulators = await Promise.all(
  specs.map(async (spec) => {
    const sim = await startSimulator({
      apiTokens: [spec.token],
      rateLimitPerMinute: spec.rateLimitPerMinute ?? Infinity,
      ...(spec.rateLimitWindowSeconds ? { rateLimitWindowSeconds: spec.rateLimitWindowSeconds } : {}),
      seed: spec.seed,
    });
    const now = Date.now();
    if (spec.history > 0) sim.generate(spec.history, { from: now - (spec.historyDays ?? 30) * DAY_MS, to: now - 60_000 });
    if (spec.liveRate) sim.startLiveTraffic(spec.liveRate * 60);
    return sim;
  }),
);
process.stdout.write(`${JSON.stringify(simulators.map((sim) => sim.domain))}\n`);
createInterface({ input: process.stdin }).on('line', () => {
  if (process.env.BENCH_SIMULATOR_TRACE) process.stderr.write(`${JSON.stringify(simulators.map((sim) => sim.requests.map((r) => [r.time % 100000, r.status])))}\n`);
  const stats = simulators.map((sim): OrgRequests => {
    const logs = sim.requests.filter((request) => request.path === '/api/v1/logs');
    return {
      requests: logs.length,
      refused: logs.filter((request) => request.status === 429).length,
      firstAt: logs[0]?.time ?? 0,
      lastAt: logs.at(-1)?.time ?? 0,
      events: logs.reduce((sum, request) => sum + (request.eventCount ?? 0), 0),
    };
  });
  process.stdout.write(`${JSON.stringify(stats)}\n`);
});
process.once('SIGTERM', () => void Promise.all(simulators.map((sim) => sim.close())).then(() => process.exit(0)));
// The live traffic timers do not keep the process alive; the servers do.
