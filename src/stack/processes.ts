import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForwarderError } from '../errors.js';

/** Lines printed to the person (or CI log) running the stack: progress, never secrets. */
export type Report = (line: string) => void;

/** The uid and gid of `nobody`: Elasticsearch refuses to run as root. */
export const UNPRIVILEGED = { uid: 65534, gid: 65534 };

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a command to completion; throws with its output's tail when it fails. */
export function run(command: string, args: string[], what: string, options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) {
    throw new ForwarderError('OF_STACK_START', `${what}: cannot run ${command}: ${result.error.message}`, { cause: result.error });
  }
  if (result.status !== 0) {
    const output = `${String(result.stdout ?? '')}\n${String(result.stderr ?? '')}`.trim().split('\n').slice(-25).join('\n');
    throw new ForwarderError('OF_STACK_START', `${what}: ${command} ${args.join(' ')} exited with ${result.status}:\n${output}`);
  }
  return String(result.stdout ?? '');
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export interface DetachedProcess {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  pidFile: string;
  /** Run as this user instead of the current one (through setpriv, when the current user is root). */
  runAs?: { uid: number; gid: number };
}

/**
 * Starts a long-running service in its own process group, detached from this process, so it
 * outlives `stack up` and a test run; stdout and stderr go to its log file. The pid is written to
 * the pid file, which is what `down` and `status` read.
 */
export function startDetached(spec: DetachedProcess): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const out = openSync(spec.logFile, 'a');
  const [command, args] = spec.runAs
    ? ['setpriv', [`--reuid=${spec.runAs.uid}`, `--regid=${spec.runAs.gid}`, '--clear-groups', '--', spec.command, ...spec.args]]
    : [spec.command, spec.args];
  const child = spawn(command, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  if (child.pid === undefined) throw new ForwarderError('OF_STACK_START', `starting ${spec.command}: no process was created`);
  child.unref();
  writeFileSync(spec.pidFile, `${child.pid}\n`);
  return child.pid;
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped) still answers signal 0; it is not running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Stops the process group of the pid file: SIGTERM, then SIGKILL after the grace period. Removes the pid file. */
export async function stopDetached(pidFile: string, graceMs = 30_000): Promise<boolean> {
  const pid = readPid(pidFile);
  if (pid === undefined) return false;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
  };
  const groupAlive = () => {
    try {
      process.kill(-pid, 0);
      return isAlive(pid) || hasGroupMembers(pid);
    } catch {
      return false;
    }
  };
  if (groupAlive()) {
    signalGroup('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive() && Date.now() < deadline) await sleep(200);
    if (groupAlive()) {
      signalGroup('SIGKILL');
      while (groupAlive()) await sleep(100);
    }
  }
  rmSync(pidFile, { force: true });
  return true;
}

/** True when some process other than a zombie is still in the process group. */
function hasGroupMembers(pgid: number): boolean {
  const result = spawnSync('ps', ['-o', 'stat=', '-g', String(pgid)], { encoding: 'utf8' });
  if (result.status !== 0 || typeof result.stdout !== 'string') return false;
  return result.stdout.split('\n').some((stat) => stat.trim() !== '' && !stat.trim().startsWith('Z'));
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolvePromise(false);
    });
  });
}

/** The last lines of a log file, to explain a failed start. */
export function logTail(logFile: string, lines = 20): string {
  if (!existsSync(logFile)) return '(no log written)';
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls `probe` until it returns true. Fails early, with the log's tail, when the process died;
 * fails with the last probe error when the timeout passes.
 */
export async function waitUntilReady(options: {
  what: string;
  probe: () => Promise<boolean>;
  timeoutMs: number;
  pid?: number;
  logFile?: string;
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = 'not ready yet';
  let delay = 100;
  for (;;) {
    try {
      if (await options.probe()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    const tail = options.logFile ? `\nlast lines of ${options.logFile}:\n${logTail(options.logFile)}` : '';
    if (options.pid !== undefined && !isAlive(options.pid)) {
      throw new ForwarderError('OF_STACK_START', `${options.what} exited while starting${tail}`);
    }
    if (Date.now() > deadline) {
      throw new ForwarderError('OF_STACK_TIMEOUT', `${options.what} was not ready after ${Math.round(options.timeoutMs / 1000)} s (${lastError})${tail}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
}
