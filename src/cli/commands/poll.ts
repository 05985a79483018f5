import type { BackfillProgress } from '../../poller/progress.js';
import { startPollers, type RunningPollers } from '../../poller/run.js';
import { WORKING_STATES, type ConnectorState } from '../../poller/state.js';
import { thisProcess } from '../../kafka/poller-group.js';
import { orgStatusFromPoller } from '../../status/report.js';
import { loadConfigWithOrgs, type CommandContext } from '../context.js';
import { runService, type Service, type ServiceDeps } from '../service.js';
import { bar, formatCount, formatDuration, StatusLine } from '../terminal.js';

/**
 * `okta-forwarder poll`: one poller per org this process holds in the poller group (all of them
 * when it runs alone; several processes with one configuration share the orgs), until
 * SIGINT/SIGTERM, which stops each after its page in flight and then leaves the group. A poller
 * fenced by another process gives its org up; the process goes on with the others.
 */
export async function pollCommand(context: CommandContext): Promise<number> {
  return runService('poll', loadConfigWithOrgs(context, 'poll'), startPollService);
}

/** The pollers as a service, with a progress line on the terminal; `run` uses it too. */
export async function startPollService(deps: ServiceDeps): Promise<Service & { pollers: RunningPollers }> {
  const line = new StatusLine();
  const progress = new Map<string, BackfillProgress>();
  const pollers = await startPollers({
    ...deps,
    onWaiting: deps.waits.listener,
    onProgress: (org, update) => {
      progress.set(org, update);
      line.update([...progress].map(([id, p]) => describeProgress(id, p)).join('   '));
      if (update.caughtUp && [...progress.values()].every((p) => p.caughtUp)) line.done();
    },
  });
  return {
    pollers,
    done: pollers.done,
    stop: async () => {
      await pollers.stop();
      line.done();
    },
    readiness: () => {
      const stats = [...pollers.handles].map(([org, handle]) => [org, handle.stats()] as const);
      const states = Object.fromEntries(stats.map(([org, s]) => [org, s.state]));
      // An org whose poller waits for Kafka is not doing its job either, whatever Okta says.
      const waiting: Record<string, string | undefined> = Object.fromEntries(stats.filter(([, s]) => s.waitingFor !== undefined).map(([org, s]) => [org, s.waitingFor]));
      // Out of the poller group, the process polls nothing, and says why.
      const group = pollers.waitingFor?.();
      if (group !== undefined) waiting['poller group'] = group;
      const ready = Object.values(states).every((state) => WORKING_STATES.has(state as ConnectorState)) && Object.keys(waiting).length === 0;
      return { ready, detail: { connectors: states, ...(Object.keys(waiting).length > 0 ? { waitingFor: waiting } : {}) } };
    },
    status: () => {
      const nowMs = Date.now();
      const owner = thisProcess();
      const shares = new Map(deps.config.okta.orgs.map((org) => [org.id, org.rateLimitShare]));
      // The handles at this moment: the orgs this process holds change as the poller group rebalances.
      const orgs = [...pollers.handles.values()].map((handle) => {
        const stats = handle.stats();
        return orgStatusFromPoller(stats, { owner, rateLimitShare: shares.get(stats.org) ?? 0, nowMs });
      });
      return { orgs };
    },
  };
}

function describeProgress(org: string, p: BackfillProgress): string {
  if (p.caughtUp) return `${org}: caught up, ${formatCount(p.events)} events`;
  return `${org}: backfill ${bar(p.ratio, 12)} ${(p.ratio * 100).toFixed(1)}%  ${formatCount(p.events)} events  ${formatCount(p.eventsPerSecond)} ev/s  ETA ${formatDuration(p.etaSeconds)}`;
}
