import { ConfigError } from '../errors.js';
import { loadConfig, type LoadedConfig } from '../config/index.js';

/** What every command receives from the command line. */
export interface CommandContext {
  configFile: string | undefined;
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
}

/** Loads the configuration for a command that needs orgs, with a command-specific error when there are none. */
export function loadConfigWithOrgs(context: CommandContext, command: string): LoadedConfig {
  const loaded = loadConfig({ file: context.configFile });
  if (loaded.config.okta.orgs.length === 0) {
    throw new ConfigError(loaded.source, [`okta.orgs: "${command}" needs at least one org; see config/example.json`]);
  }
  return loaded;
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function untilSignal(onSecond: () => void = () => process.exit(130)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) onSecond();
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
