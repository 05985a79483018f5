import { startSimulator } from './server.js';
import type { SimulatorHandle } from './types.js';

const DAY_MS = 86_400_000;

export interface RunSimulatorArgs {
  port: number;
  host: string;
  /** The SSWS API token the simulator accepts. Never logged. */
  token: string;
  /** History: `historyEvents` events published over the last `historyDays` days. */
  historyDays: number;
  historyEvents: number;
  /** New events per minute from now on; 0 for none. */
  livePerMinute: number;
  /** Requests per minute on /api/v1/logs; 0 or Infinity for no limit (headers still sent). */
  rateLimitPerMinute: number;
  log: (line: string) => void;
}

/**
 * The simulator as a long-running service, for `okta-forwarder simulate` and the demo: starts it,
 * fills its history, starts live traffic, and says what it serves. The token is not logged: the
 * caller chose it and knows where it is.
 */
export async function runSimulator(args: RunSimulatorArgs): Promise<SimulatorHandle> {
  const rateLimitPerMinute = args.rateLimitPerMinute > 0 ? args.rateLimitPerMinute : Number.POSITIVE_INFINITY;
  const simulator = await startSimulator({ host: args.host, port: args.port, apiTokens: [args.token], rateLimitPerMinute });
  try {
    const started = performance.now();
    const now = Date.now();
    if (args.historyEvents > 0) simulator.generate(args.historyEvents, { from: now - args.historyDays * DAY_MS, to: now });
    args.log(`Okta simulator: ${simulator.eventCount} events published over the last ${args.historyDays} days, generated in ${Math.round(performance.now() - started)} ms`);
    if (args.livePerMinute > 0) simulator.startLiveTraffic(args.livePerMinute);
    args.log(`Okta simulator: serving ${simulator.url}/api/v1/logs (domain "${simulator.domain}", allowInsecureHttp), SSWS API token as configured`);
    args.log(
      `Okta simulator: ${args.livePerMinute > 0 ? `${args.livePerMinute} new events per minute` : 'no live traffic'}, ` +
        `rate limit ${Number.isFinite(rateLimitPerMinute) ? `${rateLimitPerMinute} requests per minute` : 'off'}`,
    );
    return simulator;
  } catch (err) {
    await simulator.close();
    throw err;
  }
}
