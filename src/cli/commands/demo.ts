import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../config/index.js';
import { createElasticsearchClient } from '../../elasticsearch/client.js';
import { createKafka } from '../../kafka/client.js';
import { createLogger } from '../../logging/logger.js';
import { registerSecret } from '../../logging/secrets.js';
import { createMetrics } from '../../metrics/registry.js';
import { startSimulator } from '../../simulator/index.js';
import { SERVICES, stackSettings } from '../../stack/settings.js';
import { down, up } from '../../stack/stack.js';
import { activitySummary } from '../activity-summary.js';
import { untilSignal, type CommandContext } from '../context.js';
import { StartupWaits } from '../service.js';
import { bar, formatCount, StatusLine } from '../terminal.js';
import { startPollService } from './poll.js';
import { startSinkService } from './sink.js';

const DAY = 86_400_000;

/**
 * `okta-forwarder demo`: the whole product on this machine. Starts (or reuses) the local stack
 * and the Okta simulator with a 60-day history and live traffic, runs the poller and the sink with
 * progress shown, then says what landed in Elasticsearch and how to point the forwarder at a real
 * org. It keeps tailing until Ctrl-C, which stops everything it started (--exit-when-done stops
 * right after the summary).
 */
export async function demoCommand(context: CommandContext): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const historyEvents = Number(context.flags['history-events'] ?? 20_000);
  const settings = stackSettings();
  say('demo: starting the local stack (Kafka, Elasticsearch, Prometheus); the first time downloads them from Maven Central');
  const stack = await up(settings, SERVICES, (line) => say(`  stack: ${line}`));
  const stopStack = () => down(settings, stack.started, (line) => say(`  stack: ${line}`));
  const { kafka: kafkaEndpoint, elasticsearch: es } = stack.endpoints;
  if (!kafkaEndpoint || !es) throw new Error('the stack gave no Kafka or Elasticsearch endpoint');

  const run = Date.now().toString(36);
  const org = `demo-${run}`;
  const token = `demo-${randomBytes(18).toString('base64url')}`;
  registerSecret(token);
  const sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: 600, seed: 42 });
  const now = Date.now();
  sim.generate(historyEvents, { from: now - 60 * DAY, to: now - 60_000 });
  const stopLive = sim.startLiveTraffic(120);
  say(`demo: an Okta org simulated at ${sim.url} with ${formatCount(historyEvents)} events over the last 60 days and 120 new events a minute`);

  const dir = join(settings.stateDir, 'demo');
  mkdirSync(dir, { recursive: true });
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        log: { level: 'info' },
        okta: { orgs: [{ id: org, domain: sim.domain, allowInsecureHttp: true, auth: { tokenFile }, pollIntervalSeconds: 5, rateLimitShare: 0.5 }] },
        kafka: {
          brokers: kafkaEndpoint.brokers,
          topics: { events: `demo.${run}.system-log`, checkpoints: `demo.${run}.checkpoints`, deadLetter: `demo.${run}.dlq`, pollers: `demo.${run}.pollers` },
          pollerGroup: `demo-${run}-pollers`,
          eventsPartitions: 3,
          consumerGroup: `demo-${run}-sink`,
        },
        elasticsearch: { nodes: [es.url], auth: { username: es.username } },
        metrics: { port: 0 },
      },
      null,
      2,
    ),
  );
  const { config } = loadConfig({ file: configFile, env: { ELASTICSEARCH_PASSWORD: es.password } });
  const logFile = join(settings.stateDir, 'logs', 'demo.log');
  const logger = createLogger({ level: 'info', base: { command: 'demo' }, destination: pino.destination({ dest: logFile, mkdir: true, sync: false }) });
  say(`demo: polling and indexing; the forwarder's JSON logs go to ${logFile}`);

  // Ctrl-C while the services still wait for Kafka or Elasticsearch ends those waits too.
  const interrupted = untilSignal();
  let signalled = false;
  const stopping = new AbortController();
  void interrupted.then(() => {
    signalled = true;
    stopping.abort();
  });
  const deps = { config, logger, metrics: createMetrics(), kafka: createKafka(config.kafka, logger), signal: stopping.signal, waits: new StartupWaits() };
  const line = new StatusLine();
  const elasticsearch = createElasticsearchClient(config.elasticsearch);
  let poll: Awaited<ReturnType<typeof startPollService>> | undefined;
  let sink: Awaited<ReturnType<typeof startSinkService>> | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  // Everything the demo started is stopped, also when Ctrl-C ends a wait for Kafka or Elasticsearch.
  try {
    poll = await startPollService(deps);
    const sinkService = (sink = await startSinkService(deps, false));
    // The org's poller once the poller group has given the org to this process.
    const pollers = poll.pollers.handles;
    const sinkStats = () => sinkService.readiness().detail.sink as { indexed: number; deadLettered: number };
    progressTimer = setInterval(() => {
      const stats = pollers.get(org)?.stats();
      const ratio = stats?.progress?.ratio ?? 0;
      line.update(`demo: backfill ${bar(ratio, 20)} ${(ratio * 100).toFixed(1)}%  published ${formatCount(stats?.events ?? 0)}  indexed ${formatCount(sinkStats().indexed)}  state ${stats?.state ?? 'starting'}`);
    }, 250);
    // Done when the backfill caught up and the sink settled every published event.
    while (!signalled) {
      const stats = pollers.get(org)?.stats();
      const settled = sinkStats().indexed + sinkStats().deadLettered;
      if (stats?.progress?.caughtUp && settled >= stats.events && stats.events >= historyEvents) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    clearInterval(progressTimer);
    line.done();
    if (!signalled) {
      await elasticsearch.indices.refresh({ index: `${config.elasticsearch.indexPrefix}-*` });
      process.stdout.write(await activitySummary(elasticsearch, config.elasticsearch.indexPrefix, org));
      process.stdout.write(realOrgHelp(configFile));
      if (context.flags['exit-when-done'] !== true) {
        say('demo: still tailing the simulated org; Ctrl-C stops everything the demo started');
        await interrupted;
      }
    }
  } finally {
    clearInterval(progressTimer);
    line.done();
    say('demo: stopping');
    stopLive();
    await poll?.stop();
    await sink?.stop();
    await elasticsearch.close();
    await sim.close();
    await stopStack();
  }
  return 0;
}

function realOrgHelp(configFile: string): string {
  return `
To forward a real Okta org:
  1. copy config/example.json and keep one org: its "domain" (acme.okta.com) and an API token of a
     Read-only or Report administrator in the variable that "tokenEnv" names (or an OAuth service app);
  2. set kafka.brokers and elasticsearch.nodes to your clusters (secrets through their environment variables);
  3. okta-forwarder check --config your.json   then   okta-forwarder run --config your.json
The demo's own configuration is in ${configFile}.
`;
}
