/**
 * What the benchmarks share: the local stack's endpoints and pids, CPU and memory of a process
 * from /proc, the simulated orgs in their own process, a forwarder command in its own process,
 * repetition with median and range, and the machine-readable results that docs/performance.md
 * quotes.
 *
 * Knobs: BENCH_RUNS (repetitions of each measurement, default 3), BENCH_NODE_FLAGS (Node options
 * for the forwarder processes, e.g. --max-old-space-size=96), OKTA_FORWARDER_STACK_DIR (a stack
 * started from another clone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pidFile } from '../src/stack/local.js';
import { readPid } from '../src/stack/processes.js';
import { PROJECT_ROOT, stackSettings } from '../src/stack/settings.js';
import { readEndpoints } from '../src/stack/stack.js';

export const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
export const NODE_FLAGS = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
/** BENCH_ENV: `NAME=value` pairs, space-separated, added to the forwarder processes' environment (e.g. glibc's MALLOC_* settings); an experiment, as BENCH_NODE_FLAGS. */
export const CHILD_ENV = process.env.BENCH_ENV?.split(' ').filter(Boolean) ?? [];
export const RESULTS_DIR = join(PROJECT_ROOT, 'bench', 'results');

/** A number from the environment, for the size and duration knobs. */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number; value was ${JSON.stringify(raw)}`);
  return value;
}

export interface StackUnderTest {
  brokers: string[];
  elasticsearch: { url: string; username: string; password: string };
  /** The Kafka and Elasticsearch processes of the local stack, for their CPU; absent when the stack is not local. */
  pids: { kafka?: number; elasticsearch?: number };
}

export function stackUnderTest(): StackUnderTest {
  const settings = stackSettings();
  const endpoints = readEndpoints(settings);
  if (!endpoints.kafka || !endpoints.elasticsearch) throw new Error('no stack: run `npm run stack -- up` first (or set OKTA_FORWARDER_STACK_DIR)');
  const { url, username = '', password = '' } = endpoints.elasticsearch;
  return {
    brokers: endpoints.kafka.brokers,
    elasticsearch: { url, username, password },
    pids: { kafka: readPid(pidFile(settings, 'kafka')), elasticsearch: readPid(pidFile(settings, 'elasticsearch')) },
  };
}

export function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    loadAverage1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  };
}

// ---------------------------------------------------------------------------------------------
// /proc

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node runs on (`getconf CLK_TCK`)

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The process and its descendants (Elasticsearch's launcher starts the server as its child). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!Number.isInteger(ppid)) continue;
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []));
  return tree;
}

/** CPU-seconds (user + system) a process and its descendants have used so far. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    const fields = statFields(member);
    // utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the command name.
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
}

export const rssMb = (pid: number): number => statusKb(pid, 'VmRSS') / 1024;
export const peakRssMb = (pid: number): number => statusKb(pid, 'VmHWM') / 1024;

/** CPU-seconds used by each named process between this call and the returned function's. */
export function cpuMeter(pids: Record<string, number | undefined>): () => Record<string, number> {
  const known = Object.entries(pids).filter((entry): entry is [string, number] => entry[1] !== undefined);
  const before = new Map(known.map(([name, pid]) => [name, cpuSeconds(pid)]));
  return () => Object.fromEntries(known.map(([name, pid]) => [name, cpuSeconds(pid) - before.get(name)!]));
}

/**
 * Waits until a process is idle (under 10 % of a core over 2 s; 60 s at most), so that what it
 * still does for one measurement (Elasticsearch merging the segments a bulk just wrote) is not
 * counted in the next one.
 */
export async function untilIdle(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const cpu = cpuMeter({ pid });
    await sleep(2000);
    if (cpu().pid! / 2 < 0.1) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Processes under test

export interface SimulatedOrgSpec {
  /** Events of history, published evenly over the last `historyDays` days (to one minute ago). */
  history: number;
  historyDays?: number;
  /** Live events per second from the start. */
  liveRate?: number;
  rateLimitPerMinute?: number;
  rateLimitWindowSeconds?: number;
  seed?: number;
}

/** What one simulated org saw of /api/v1/logs (times on the simulator's clock, epoch ms). */
export interface OrgRequests {
  requests: number;
  /** Answered 429. */
  refused: number;
  firstAt: number;
  lastAt: number;
  events: number;
}

export interface SimulatedOrg {
  id: string;
  domain: string;
  token: string;
}

/**
 * Simulated Okta orgs served by one child process (bench/simulator-process.ts), so that the
 * forwarder's CPU and memory are its own and the simulator's work is not on the bench's thread.
 */
export async function startSimulatedOrgs(
  specs: SimulatedOrgSpec[],
): Promise<{ orgs: SimulatedOrg[]; pid: number; requests: () => Promise<OrgRequests[]>; stop: () => void }> {
  const orgs = specs.map((spec, i) => ({ ...spec, token: `bench-${randomUUID()}`, seed: spec.seed ?? i + 1 }));
  // A 600,000-event history takes more than V8's default heap limit on some machines.
  const child = spawn(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', join(PROJECT_ROOT, 'bench', 'simulator-process.ts'), JSON.stringify(orgs)], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // One JSON line per answer: the domains first, then one per stats request.
  const waiting: ((line: string) => void)[] = [];
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
      waiting.shift()?.(text.slice(0, end));
      text = text.slice(end + 1);
    }
  });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`the simulator process exited with ${code}`)));
    });
  const domains = JSON.parse(await nextLine()) as string[];
  return {
    orgs: orgs.map((org, i) => ({ id: `org${i + 1}`, domain: domains[i]!, token: org.token })),
    pid: child.pid!,
    requests: async () => {
      const answer = nextLine();
      child.stdin.write('stats\n');
      return JSON.parse(await answer) as OrgRequests[];
    },
    stop: () => child.kill('SIGTERM'),
  };
}

export interface ForwarderProcess {
  child: ChildProcess;
  pid: number;
  /** Everything written on stdout (the JSON log lines) so far. */
  output(): string;
  /** Resolves with the `time` of the `count`-th log line matching `pattern`; rejects if the process exits first. */
  waitForLog(pattern: RegExp, count?: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface ForwarderRun {
  /** Unique per run: topic, group and index names. */
  name: string;
  orgs?: SimulatedOrg[];
  /** Merged into each org's settings (e.g. rateLimitShare, pollIntervalSeconds). */
  orgSettings?: Record<string, unknown>;
  eventsPartitions?: number;
}

/** The forwarder's configuration for a benchmark run on the stack under test: unique topics, group and indices. */
export function forwarderConfig(stack: StackUnderTest, run: ForwarderRun): { config: object; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'okta-forwarder-bench-'));
  const orgs = (run.orgs ?? []).map((org) => {
    const tokenFile = join(dir, `${org.id}.token`);
    writeFileSync(tokenFile, org.token);
    return { id: org.id, domain: org.domain, allowInsecureHttp: true, auth: { tokenFile }, ...run.orgSettings };
  });
  return {
    config: {
      log: { level: 'info' },
      okta: { orgs },
      kafka: {
        brokers: stack.brokers,
        clientId: run.name,
        topics: { events: `${run.name}-events`, checkpoints: `${run.name}-checkpoints`, deadLetter: `${run.name}-dlq`, pollers: `${run.name}-pollers` },
        pollerGroup: `${run.name}-pollers`,
        consumerGroup: `${run.name}-sink`,
        eventsPartitions: run.eventsPartitions ?? 6,
      },
      elasticsearch: { nodes: [stack.elasticsearch.url], indexPrefix: run.name },
      metrics: { port: 0 },
    },
    // Credentials through the environment, as an operator would.
    env: { ELASTICSEARCH_USERNAME: stack.elasticsearch.username, ELASTICSEARCH_PASSWORD: stack.elasticsearch.password },
  };
}

/** `okta-forwarder <command>` from dist/ in its own process, with BENCH_NODE_FLAGS and any extra Node options. */
export function startForwarder(command: 'poll' | 'sink' | 'run', settings: { config?: object; env?: Record<string, string>; nodeFlags?: string[] }): ForwarderProcess {
  const args = [...NODE_FLAGS, ...(settings.nodeFlags ?? []), join(PROJECT_ROOT, 'dist/cli/main.js'), command];
  if (settings.config) {
    const file = join(mkdtempSync(join(tmpdir(), 'okta-forwarder-bench-')), 'config.json');
    writeFileSync(file, JSON.stringify(settings.config));
    args.push('--config', file);
  }
  const extraEnv = Object.fromEntries(CHILD_ENV.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...extraEnv, ...settings.env }, stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  let exited: number | null | undefined;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.once('exit', (code) => (exited = code));
  return {
    child,
    pid: child.pid!,
    output: () => output,
    async waitForLog(pattern, count = 1, timeoutMs = 30 * 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const times = output
          .split('\n')
          .filter((line) => pattern.test(line))
          .map((line) => Date.parse(/"time":"([^"]+)"/.exec(line)?.[1] ?? ''));
        if (times.length >= count) return times[count - 1]!;
        if (exited !== undefined) throw new Error(`${command} exited with ${exited} before logging ${pattern}:\n${output.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`${command} did not log ${pattern} ${count} times within ${timeoutMs / 1000} s`);
        await sleep(100);
      }
    },
    async stop() {
      if (exited !== undefined) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Repetition and results

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: values };
}

/** The p-th percentile (0-100) of the values, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `measure` RUNS times, one after the other, and gives each numeric figure's median and range. */
export async function repeat<T extends Record<string, number>>(label: string, measure: (run: number) => Promise<T>): Promise<{ [K in keyof T]: Spread }> {
  const results: T[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const result = await measure(run);
    process.stderr.write(`${label}, run ${run}/${RUNS}: ${JSON.stringify(result, (_, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v))}\n`);
    results.push(result);
  }
  const keys = Object.keys(results[0]!) as (keyof T)[];
  return Object.fromEntries(keys.map((key) => [key, spread(results.map((result) => result[key]))])) as { [K in keyof T]: Spread };
}

/**
 * The shortest time from the first request (at `firstAt`, epoch ms) to the last of `needed`
 * requests when at most `perWindow` may go in each window, windows starting at multiples of
 * `windowMs` on the clock as Okta's rate-limit windows do: the first, partial window counts in
 * full, and the last request may go as soon as its window starts.
 */
export function shortestBackfillMs(firstAt: number, needed: number, perWindow: number, windowMs: number): number {
  const windows = Math.ceil(needed / perWindow);
  if (windows <= 1) return 0;
  const firstReset = (Math.floor(firstAt / windowMs) + 1) * windowMs;
  return firstReset - firstAt + (windows - 2) * windowMs;
}

export const formatSpread = (s: Spread, digits = 0): string =>
  s.min === s.max ? s.median.toFixed(digits) : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

export interface BenchResult {
  name: string;
  date: string;
  runs: number;
  nodeFlags: string[];
  /** BENCH_ENV of an experiment. */
  env?: string[];
  machine: Record<string, string | number>;
  figures: Record<string, unknown>;
}

/** bench/results/<name>.json, or <name> <flags>.json for a run with BENCH_NODE_FLAGS or BENCH_ENV (an experiment, not the reference). */
function resultFile(name: string): string {
  return join(RESULTS_DIR, `${[name, ...NODE_FLAGS, ...CHILD_ENV].join(' ').replace(/[^\w.=-]+/g, '_')}.json`);
}

/** Writes the figures with the date, the machine and its load, for the sizing report and docs/performance.md. */
export function writeResult(name: string, figures: Record<string, unknown>): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const result: BenchResult = { name, date: new Date().toISOString(), runs: RUNS, nodeFlags: NODE_FLAGS, ...(CHILD_ENV.length ? { env: CHILD_ENV } : {}), machine: machine(), figures };
  writeFileSync(resultFile(name), `${JSON.stringify(result, null, 2)}\n`);
}

export function readResult(name: string): BenchResult | undefined {
  return existsSync(resultFile(name)) ? (JSON.parse(readFileSync(resultFile(name), 'utf8')) as BenchResult) : undefined;
}

export function printTable(title: string, rows: [string, string][]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`\n${title}\n${rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n')}\n`);
}
