import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (TypeScript sources through tsx) as a user would, with the given environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, entry = 'src/cli/main.ts'): Promise<CliResult> {
  return runNode(['--import', 'tsx', entry, ...args], env);
}

/** Runs node with the given arguments in the project folder, with only the given environment (plus PATH and HOME). */
export function runNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runProcess(process.execPath, args, { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
}

/** Runs a program until it exits, with exactly the given environment, and returns what it printed. */
export function runProcess(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running CLI process (`poll`, `sink`, `run`) started by a test. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Its exit code (null when a signal ended it), once it exited. */
  readonly exited: Promise<number | null>;
  /** Whether it is still running. */
  running(): boolean;
}

/** A CLI service a test started, by a name of the test's choosing, with the port of its /metrics and /readyz listener. */
export interface ListeningProcess {
  name: string;
  port: number;
  process: CliProcess;
}

/**
 * Starts the real CLI (TypeScript sources through tsx) as a service, with only the given
 * environment (plus PATH and HOME). It is SIGKILLed when the test ends, if it still runs.
 */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  return spawnProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
}

/** Starts a long-running program with exactly the given environment; SIGKILLed when the test ends, if it still runs. */
export function spawnProcess(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): CliProcess {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let alive = true;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      // Said in the output, so an assertion on the exit code shows what ended the process.
      if (signal) output += `\n[ended by ${signal}]\n`;
      resolve(code);
    }),
  );
  onTestFinished(async () => {
    if (!alive) return;
    child.kill('SIGKILL');
    await exited;
  });
  return { child, output: () => output, exited, running: () => alive };
}

/**
 * A process's JSON log lines in short: each distinct level and message once, in order of first
 * appearance, with how often it came. Shows what a long-running process went through when a test
 * fails, where the last lines show only the repetition it ended in.
 */
export function logSummary(output: string): string {
  const seen = new Map<string, number>();
  for (const line of output.split('\n')) {
    let key = line.slice(0, 160);
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      key = `${entry.level ?? '?'}: ${(entry.msg ?? '').slice(0, 160)}`;
    } catch {
      /* not a log line: kept as printed */
    }
    if (key.trim() !== '') seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].map(([key, count]) => (count > 1 ? `${key} (x${count})` : key)).join('\n');
}
