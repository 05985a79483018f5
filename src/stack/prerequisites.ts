import { spawnSync } from 'node:child_process';
import { ForwarderError } from '../errors.js';
import { commandExists, isRoot, run, type Report } from './processes.js';

const SUDO = isRoot() ? '' : 'sudo ';

/** Java 17 or later runs Kafka and Elasticsearch. */
export function requireJava(): string {
  const javaHome = process.env.JAVA_HOME;
  const java = javaHome ? `${javaHome}/bin/java` : 'java';
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new ForwarderError(
      'OF_STACK_PREREQUISITE',
      `Java 17 or later is needed to run Kafka and Elasticsearch locally, and ${java} was not found.\n` +
        `Install it with:  ${SUDO}apt-get install -y openjdk-17-jdk-headless   (or set JAVA_HOME)`,
    );
  }
  const match = /version "(\d+)/.exec(result.stderr);
  const major = match ? Number(match[1]) : 0;
  if (major < 17) {
    throw new ForwarderError(
      'OF_STACK_PREREQUISITE',
      `Java 17 or later is needed to run Kafka and Elasticsearch locally; ${java} is version ${major || 'unknown'}.\n` +
        `Install it with:  ${SUDO}apt-get install -y openjdk-17-jdk-headless   (and set JAVA_HOME to it)`,
    );
  }
  return javaHome || javaHomeOf(java);
}

/** JAVA_HOME of the `java` on the PATH, which Elasticsearch's launcher needs as ES_JAVA_HOME. */
function javaHomeOf(java: string): string {
  const result = spawnSync(java, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  const match = /java\.home = (.+)/.exec(result.stderr);
  if (!match?.[1]) throw new ForwarderError('OF_STACK_PREREQUISITE', 'cannot tell where Java is installed: set JAVA_HOME');
  return match[1].trim();
}

/** Maven resolves Kafka and Elasticsearch from Maven Central. */
export function requireMaven(): void {
  if (!commandExists('mvn')) {
    throw new ForwarderError(
      'OF_STACK_PREREQUISITE',
      `Maven is needed to download Kafka and Elasticsearch from Maven Central, and mvn was not found.\n` +
        `Install it with:  ${SUDO}apt-get install -y maven`,
    );
  }
}

/** Prometheus comes from Debian's package; as root the stack installs it, otherwise it says how. */
export function requirePrometheus(report: Report): string {
  return requireFromPrometheusPackage('prometheus', report);
}

/** promtool (checks and unit-tests the alert rules) comes with Prometheus, from the same package. */
export function requirePromtool(report: Report): string {
  return requireFromPrometheusPackage('promtool', report);
}

function requireFromPrometheusPackage(command: 'prometheus' | 'promtool', report: Report): string {
  if (commandExists(command)) return command;
  const install = `${SUDO}apt-get install -y --no-install-recommends prometheus`;
  if (!isRoot() || !commandExists('apt-get')) {
    throw new ForwarderError('OF_STACK_PREREQUISITE', `${command} (Prometheus) is needed and was not found. Install it with:  ${install}`);
  }
  report(`${command}: not installed; running: ${install}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    run('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus'], 'installing prometheus', { env });
  } catch {
    run('apt-get', ['update'], 'updating the package lists', { env });
    run('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus'], 'installing prometheus', { env });
  }
  if (!commandExists(command)) {
    throw new ForwarderError('OF_STACK_PREREQUISITE', `installing prometheus did not put ${command} on the PATH; install it with:  ${install}`);
  }
  return command;
}
