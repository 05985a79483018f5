import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT, runProcess, type CliResult } from './cli.js';

/** A container engine that was seen running a container on this machine, and how it was invoked. */
export interface ContainerEngine {
  /** docker or podman. */
  name: string;
  /** The program and its global flags. */
  command: string[];
  /** Flags `run` and `build` need here. */
  runFlags: string[];
  description: string;
}

/** The outcome of looking for an engine: the one that ran a container, and what each try said. */
export interface EngineSearch {
  engine: ContainerEngine | undefined;
  tried: string[];
}

/**
 * The candidates, in order: Docker with a daemon; Podman as installed; Podman with the settings
 * that let it run on a host with cgroups in hybrid mode that forbids raising resource limits
 * (runc with cgroupfs, nofile and nproc kept low), which is how this project's CI machine is.
 */
const CANDIDATES: ContainerEngine[] = [
  { name: 'docker', command: ['docker'], runFlags: [], description: 'docker' },
  { name: 'podman', command: ['podman'], runFlags: [], description: 'podman' },
  {
    name: 'podman',
    command: ['podman', '--runtime', 'runc', '--cgroup-manager=cgroupfs'],
    runFlags: ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'],
    description: 'podman (runc, cgroupfs, low ulimits)',
  },
];

/**
 * The first engine that runs `node -v` in `baseImage` (pulled if it is not there), or none, with
 * what each try answered. Bounded: a minute per try.
 */
export function findContainerEngine(baseImage: string): EngineSearch {
  const tried: string[] = [];
  for (const candidate of CANDIDATES) {
    const [program, ...global] = candidate.command;
    const result = spawnSync(program!, [...global, 'run', '--rm', '--network=host', ...candidate.runFlags, baseImage, 'node', '-v'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (result.status === 0 && /^v20\./.test(result.stdout.trim())) return { engine: candidate, tried };
    const lines = `${result.stderr}${result.stdout}`.trim().split('\n');
    const said = result.error ? result.error.message : (lines.find((line) => /error|cannot/i.test(line)) ?? lines.at(-1));
    tried.push(`${candidate.description}: ${said}`);
  }
  return { engine: undefined, tried };
}

/**
 * Runs the engine with the given arguments; a failure throws with what it printed. Asynchronous:
 * the container may talk to a server of the test's own process (the Okta simulator).
 */
export async function engine(engineUsed: ContainerEngine, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await engineStatus(engineUsed, args);
  if (code !== 0) throw new Error(`${engineUsed.name} ${args.join(' ')} failed (exit ${code}): ${`${stderr}${stdout}`.slice(-3000)}`);
  return stdout;
}

/** Like engine(), but returns the exit code and the output instead of throwing. */
export function engineStatus(engineUsed: ContainerEngine, args: string[]): Promise<CliResult> {
  const [program, ...global] = engineUsed.command;
  return runProcess(program!, [...global, ...args], { cwd: PROJECT_ROOT, env: process.env });
}
