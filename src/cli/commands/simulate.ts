import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { registerSecret } from '../../logging/secrets.js';
import { runSimulator } from '../../simulator/index.js';
import { untilSignal, type CommandContext } from '../context.js';

function numberFlag(context: CommandContext, name: string, fallback: number): number {
  const raw = context.flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number of 0 or more; value was ${JSON.stringify(raw)}`);
  return value;
}

/**
 * `okta-forwarder simulate`: the project's Okta System Log simulator as a server, with a history
 * and live traffic, for trying the forwarder without an Okta org. The API token is read from
 * --token-file, or created there (mode 600) when the file does not exist; it is never printed.
 */
export async function simulateCommand(context: CommandContext): Promise<number> {
  const tokenFile = typeof context.flags['token-file'] === 'string' ? context.flags['token-file'] : '.stack/simulator-token';
  let token: string;
  if (existsSync(tokenFile)) {
    token = readFileSync(tokenFile, 'utf8').trim();
  } else {
    token = `sim-${randomBytes(24).toString('base64url')}`;
    mkdirSync(dirname(tokenFile), { recursive: true });
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  }
  registerSecret(token);
  const handle = await runSimulator({
    host: typeof context.flags.host === 'string' ? context.flags.host : '127.0.0.1',
    port: numberFlag(context, 'port', 8085),
    token,
    historyDays: numberFlag(context, 'history-days', 60),
    historyEvents: numberFlag(context, 'history-events', 50_000),
    livePerMinute: numberFlag(context, 'live-per-minute', 60),
    rateLimitPerMinute: numberFlag(context, 'rate-limit', 120),
    log: (line) => process.stderr.write(`simulate: ${line}\n`),
  });
  process.stderr.write(
    `simulate: an Okta org at ${handle.url}; point an org at it with "domain": "${handle.domain}", "allowInsecureHttp": true and "auth": {"tokenFile": "${tokenFile}"}\n`,
  );
  await untilSignal();
  await handle.close();
  return 0;
}
