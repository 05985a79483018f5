import { loadConfigWithOrgs, type CommandContext } from '../context.js';
import { runService } from '../service.js';
import { startPollService } from './poll.js';
import { startSinkService } from './sink.js';

/** `okta-forwarder run`: the pollers and a sink in one process. */
export async function runCommand(context: CommandContext): Promise<number> {
  return runService('run', loadConfigWithOrgs(context, 'run'), async (deps) => {
    const poll = await startPollService(deps);
    const sink = await startSinkService(deps, context.flags['keep-raw'] === true);
    return {
      done: Promise.all([poll.done, sink.done]).then(() => undefined),
      stop: async () => {
        await poll.stop();
        await sink.stop();
      },
      readiness: () => {
        const p = poll.readiness();
        const s = sink.readiness();
        const waitingFor = { ...(p.detail.waitingFor as object | undefined), ...(s.detail.waitingFor as object | undefined) };
        return { ready: p.ready && s.ready, detail: { ...p.detail, ...s.detail, ...(Object.keys(waitingFor).length > 0 ? { waitingFor } : {}) } };
      },
      status: () => ({ ...poll.status?.(), ...sink.status?.() }),
    };
  });
}
