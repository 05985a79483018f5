import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './cli.js';

export const DOCKER_DIR = join(PROJECT_ROOT, 'docker');
export const DOCKERFILE = join(DOCKER_DIR, 'Dockerfile');

/** One instruction: its keyword in upper case, its flags (`--from=build` → from: build) and the rest of the line. */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/**
 * The parts of Dockerfile syntax the project's Dockerfile uses: comments, line continuations,
 * global ARGs, `FROM image AS name`, and instructions with `--flag=value` options. Enough for the
 * tests to read what the image is made of, not a general parser.
 */
export function parseDockerfile(text: string): Dockerfile {
  // Comment lines go first, as Docker drops them (a backslash ending one continues nothing), then
  // continuations join their lines.
  const lines = text
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const match = /^(\S+)\s*(.*)$/.exec(line)!;
    const keyword = match[1]!.toUpperCase();
    let rest = match[2]!;
    const flags: Record<string, string> = {};
    for (let flag = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest); flag; flag = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest)) {
      flags[flag[1]!] = flag[2] ?? 'true';
      rest = rest.slice(flag[0].length);
    }
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`Dockerfile: cannot read "FROM ${rest}"`);
      stages.push({ name: from[2] ?? String(stages.length), base: from[1]!, instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== 'ARG') throw new Error(`Dockerfile: ${keyword} before the first FROM`);
      const [name, value = ''] = rest.split('=', 2);
      globalArgs[name!] = value;
    } else {
      stages.at(-1)!.instructions.push({ keyword, flags, args: rest });
    }
  }
  return { globalArgs, stages };
}

export function readDockerfile(): Dockerfile {
  return parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
}

/** The stage's base image with the global ARGs put in. */
export function baseImage(dockerfile: Dockerfile, stage: Stage): string {
  return stage.base.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => dockerfile.globalArgs[name] ?? '');
}

export function stage(dockerfile: Dockerfile, name: string): Stage {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile: no stage ${name}`);
  return found;
}

export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** An exec-form instruction's words (`["node", "x"]`); throws on the shell form. */
export function execForm(instruction: Instruction): string[] {
  const json = instruction.args.replace(/^CMD\s+/, '');
  const words = JSON.parse(json) as unknown;
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string')) throw new Error(`not the exec form: ${instruction.args}`);
  return words as string[];
}

/** ENV instructions of a stage, as one record (the `KEY=value KEY2=value2` form). */
export function environment(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructions(stage, 'ENV')) {
    for (const pair of args.match(/[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|\S+)/g) ?? []) {
      const [key, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      env[key] = value.replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/** A COPY: where from (a stage name, or undefined for the build context), its sources and its destination. */
export interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
}

export function copies(stage: Stage): Copy[] {
  return instructions(stage, 'COPY').map((instruction) => {
    const words = instruction.args.split(/\s+/);
    return { from: instruction.flags.from, sources: words.slice(0, -1), destination: words.at(-1)! };
  });
}
