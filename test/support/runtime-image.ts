import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { PROJECT_ROOT } from './cli.js';
import { copies, environment, execForm, instructions, readDockerfile, stage, type Dockerfile } from './dockerfile.js';
import { elasticsearchEndpoint, kafkaEndpoint } from './stack.js';
import { uniqueName } from './wait.js';

/** The unprivileged user and group the runtime runs as when the tests run as root (nobody, nogroup). */
export const UNPRIVILEGED_ID = 65534;

/**
 * The runtime stage of docker/Dockerfile as files on this machine, laid out as in the image under
 * `root`: `root + /app` is the image's /app, `root + /etc/okta-forwarder` its configuration folder.
 */
export interface RuntimeFileSet {
  root: string;
  /** The image's WORKDIR under root. */
  appDir: string;
  /** A path of the image, as it is here. */
  path(imagePath: string): string;
  /** The image's ENTRYPOINT with its paths made local; `node` is this Node. */
  entrypoint: string[];
  /** The image's ENV, with its paths made local. */
  env: Record<string, string>;
  /** The image's HEALTHCHECK command, `node` being this Node. */
  healthcheck: string[];
  /** Makes every file and folder of the file set read-only (a read-only root, as `--read-only`). */
  freeze(): void;
  remove(): void;
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}): ${result.stderr.slice(-2000)}`);
}

/** The sources of a context COPY: plain paths, or `dir/*.ext`. */
function contextSources(source: string): string[] {
  const glob = /^(.*)\/\*(\.[A-Za-z0-9]+)$/.exec(source);
  if (!glob) return [join(PROJECT_ROOT, source)];
  const dir = join(PROJECT_ROOT, glob[1]!);
  return readdirSync(dir)
    .filter((name) => name.endsWith(glob[2]!))
    .map((name) => join(dir, name));
}

/**
 * What a stage's npm install leaves in its WORKDIR: its COPYs from the context, then its `npm ci`
 * as the Dockerfile writes it, with --prefer-offline (npm's cache, filled by the project's own
 * `npm ci`, answers; the registry only for what it lacks). Returns the folder.
 */
function installStage(dockerfile: Dockerfile, stageName: string, into: string): string {
  const s = stage(dockerfile, stageName);
  mkdirSync(into, { recursive: true });
  for (const copy of copies(s)) {
    if (copy.from !== undefined) throw new Error(`stage ${stageName}: COPY --from=${copy.from} is not reproduced by the tests`);
    for (const source of copy.sources.flatMap(contextSources)) cpSync(source, join(into, basename(source)), { recursive: true });
  }
  const npm = instructions(s, 'RUN').filter((r) => /^npm ci\b/.test(r.args));
  if (npm.length !== 1) throw new Error(`stage ${stageName}: expected one RUN npm ci, found ${npm.length}`);
  run('npm', [...npm[0]!.args.split(/\s+/).slice(1), '--prefer-offline'], into);
  return into;
}

/**
 * Assembles the runtime stage's file set as the Dockerfile does, COPY by COPY: from the build
 * stage, the project's own build (dist/, which `npm run build` makes as the stage's `tsc` does);
 * from the production-dependencies stage, that stage's `npm ci` run here; from the context, the
 * project's files. Anything else in the Dockerfile is an error, so the test follows the file.
 */
export function assembleRuntimeFileSet(): RuntimeFileSet {
  const dockerfile = readDockerfile();
  const runtime = stage(dockerfile, 'runtime');
  const workdir = instructions(runtime, 'WORKDIR').at(-1)!.args;
  const root = mkdtempSync(join(tmpdir(), 'okta-forwarder-image-'));
  const path = (imagePath: string) => join(root, imagePath);
  const appDir = path(workdir);
  const remove = () => {
    spawnSync('chmod', ['-R', 'u+w', root]);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    mkdirSync(appDir, { recursive: true });
    for (const copy of copies(runtime)) {
      const destination = join(appDir, copy.destination);
      if (copy.destination.endsWith('/')) mkdirSync(destination, { recursive: true });
      for (const source of copy.sources) {
        if (copy.from === 'build') {
          const buildDir = instructions(stage(dockerfile, 'build'), 'WORKDIR').at(-1)!.args;
          const local = join(PROJECT_ROOT, relative(buildDir, source));
          if (!existsSync(join(local, 'cli', 'main.js'))) throw new Error(`${local} has no build: run \`npm run build\` first`);
          cpSync(local, destination, { recursive: true });
        } else if (copy.from !== undefined) {
          const stageDir = instructions(stage(dockerfile, copy.from), 'WORKDIR').at(-1)!.args;
          const installed = installStage(dockerfile, copy.from, join(root, '.stage', copy.from));
          renameSync(join(installed, relative(stageDir, source)), destination);
        } else {
          for (const file of contextSources(source)) {
            cpSync(file, copy.destination.endsWith('/') ? join(destination, basename(file)) : destination, { recursive: true });
          }
        }
      }
    }
    rmSync(join(root, '.stage'), { recursive: true, force: true });
  } catch (err) {
    remove();
    throw err;
  }
  const local = (value: string) => (value.startsWith('/') ? path(value) : value);
  const [program, ...args] = execForm(instructions(runtime, 'ENTRYPOINT')[0]!);
  const [checker, ...checkArgs] = execForm(instructions(runtime, 'HEALTHCHECK')[0]!);
  if (program !== 'node' || checker !== 'node') throw new Error('the image runs something other than node');
  return {
    root,
    appDir,
    path,
    entrypoint: [process.execPath, ...args.map(local)],
    env: Object.fromEntries(Object.entries(environment(runtime)).map(([key, value]) => [key, local(value)])),
    healthcheck: [process.execPath, ...checkArgs],
    freeze: () => {
      // Everything readable by the unprivileged user, nothing writable by anyone but root.
      spawnSync('chmod', ['-R', 'a+rX,a-w', root]);
      if (statSync(root).mode & 0o222) throw new Error(`${root} is still writable`);
    },
    remove,
  };
}

/** How the runtime is confined here: by whom it runs and how much of the filesystem it can write. */
export interface Confinement {
  /** Words for a test title: what is proven, and what is not on this machine. */
  description: string;
  /** The whole filesystem read-only for the process (a private mount namespace), not only the file set. */
  readOnlyRoot: boolean;
  /** Runs as another, unprivileged user (the tests run as root). */
  switchesUser: boolean;
  /** The command line that runs `argv` confined. */
  command(argv: string[]): string[];
}

/**
 * As root: a private mount namespace where every mount but /proc, /sys and /dev is remounted
 * read-only (a container's `--read-only`; /dev/shm stays writable, as there), then the user
 * nobody with no groups and no capabilities, through setpriv. Without root, the tests already run
 * unprivileged, and the file set (read-only) is all that cannot be written.
 */
export function confinement(): Confinement {
  if (process.getuid?.() !== 0) {
    return {
      description: 'as the (unprivileged) test user, with the file set read-only',
      readOnlyRoot: false,
      switchesUser: false,
      command: (argv) => argv,
    };
  }
  const drop = ['setpriv', `--reuid=${UNPRIVILEGED_ID}`, `--regid=${UNPRIVILEGED_ID}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--'];
  const remount =
    'findmnt -rn -o TARGET | while read -r m; do case "$m" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) ;; ' +
    '*) mount -o remount,bind,ro "$(printf "%b" "$m")" || exit 1;; esac; done';
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${remount} && ! touch /okta-forwarder-probe 2>/dev/null`]);
  if (probe.status !== 0) {
    return {
      description: `as uid ${UNPRIVILEGED_ID} with the file set read-only (no private mount namespace here for a read-only root)`,
      readOnlyRoot: false,
      switchesUser: true,
      command: (argv) => [...drop, ...argv],
    };
  }
  return {
    description: `as uid ${UNPRIVILEGED_ID} on a read-only root`,
    readOnlyRoot: true,
    switchesUser: true,
    command: (argv) => ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `${remount} && exec "$@"`, 'sh', ...drop, ...argv],
  };
}

/**
 * A configuration as an image would be given: one simulated org, the stack's Kafka (topic and
 * group names no other test uses) and Elasticsearch, secrets as the files named, the metrics
 * listener's port left to METRICS_PORT.
 */
export function imageConfiguration(options: { oktaDomain: string; tokenFile: string; passwordFile: string; indexPrefix: string; metricsHost: string }): object {
  const es = elasticsearchEndpoint();
  return {
    okta: {
      orgs: [
        {
          id: 'acme',
          domain: options.oktaDomain,
          allowInsecureHttp: true,
          auth: { method: 'api-token', tokenFile: options.tokenFile },
          pollIntervalSeconds: 1,
          rateLimitShare: 1,
        },
      ],
    },
    kafka: {
      brokers: kafkaEndpoint().brokers,
      clientId: uniqueName('it-image'),
      topics: { events: uniqueName('it-events'), checkpoints: uniqueName('it-checkpoints'), deadLetter: uniqueName('it-dlq'), pollers: uniqueName('it-pollers') },
      pollerGroup: uniqueName('it-pollers'),
      consumerGroup: uniqueName('it-sink'),
      eventsPartitions: 3,
    },
    elasticsearch: { nodes: [es.url], auth: { username: es.username, passwordFile: options.passwordFile }, indexPrefix: options.indexPrefix },
    metrics: { host: options.metricsHost },
  };
}
