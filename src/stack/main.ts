import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ForwarderError } from '../errors.js';
import { SERVICES, stackSettings, type ServiceName } from './settings.js';
import { down, purgeable, readEndpoints, status, up } from './stack.js';

const USAGE = `Usage: npm run stack -- <command> [--secure] [service...]

Commands:
  up       start (or reuse) the services and wait until each is ready
  down     stop the services this stack runs; --purge also deletes their data
  status   show each service, its endpoint and whether it is ready (exit 1 if one is not)
  env      print the endpoints as shell exports: eval "$(npm run -s stack -- env)"

Services: ${SERVICES.join(', ')} (default: all)

--secure  the secure stack, beside the plain one (.stack-secure, ports 29xxx): Kafka over
          SASL_SSL with SCRAM-SHA-512 (and a listener that also requires a client
          certificate), Elasticsearch over HTTPS, certificates from the stack's own CA
`;

const report = (line: string) => process.stderr.write(`stack: ${line}\n`);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { purge: { type: 'boolean' }, secure: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...names] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const unknown = names.filter((name) => !SERVICES.includes(name as ServiceName));
  if (unknown.length > 0) {
    process.stderr.write(`stack: unknown service "${unknown[0]}"; services are ${SERVICES.join(', ')}\n`);
    return 2;
  }
  const services = names.length > 0 ? (names as ServiceName[]) : [...SERVICES];
  const settings = stackSettings(process.env, { secure: values.secure === true });
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      await up(settings, services, report);
      report(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s; endpoints in ${settings.stateDir}/endpoints.json`);
      return 0;
    }
    case 'down':
      await down(settings, services, report);
      if (values.purge) {
        for (const dir of purgeable(settings)) {
          rmSync(dir, { recursive: true, force: true });
          report(`deleted ${dir}`);
        }
      }
      return 0;
    case 'status': {
      const rows = await status(settings);
      for (const row of rows) {
        const where = row.endpoint ? ` ${row.endpoint}` : '';
        const pid = row.pid ? ` pid ${row.pid}` : '';
        const state = row.provider === 'stopped' ? 'stopped' : row.ready ? 'ready' : `not ready${row.detail ? ` (${row.detail})` : ''}`;
        process.stdout.write(`${row.service.padEnd(14)} ${row.provider.padEnd(12)} ${state}${where}${pid}\n`);
      }
      return rows.every((row) => row.ready) ? 0 : 1;
    }
    case 'env': {
      const endpoints = readEndpoints(settings);
      if (endpoints.kafka) process.stdout.write(`export KAFKA_BROKERS=${endpoints.kafka.brokers.join(',')}\n`);
      const security = endpoints.kafka?.security;
      if (security) {
        process.stdout.write(`export KAFKA_TLS=true\nexport KAFKA_SASL_MECHANISM=${security.mechanism}\n`);
        process.stdout.write(`export KAFKA_SASL_USERNAME=${security.username}\nexport KAFKA_SASL_PASSWORD=${security.password}\n`);
        // Files have no environment variables: they go in the configuration file.
        process.stdout.write(`# kafka.tls.caFile: ${security.caFile}\n`);
        process.stdout.write(`# mutual TLS: brokers ${security.mtlsBrokers.join(',')}, kafka.tls.certFile ${security.clientCertFile}, kafka.tls.keyFile ${security.clientKeyFile}\n`);
      }
      if (endpoints.elasticsearch) {
        process.stdout.write(`export ELASTICSEARCH_URL=${endpoints.elasticsearch.url}\n`);
        process.stdout.write(`export ELASTICSEARCH_USERNAME=${endpoints.elasticsearch.username}\n`);
        process.stdout.write(`export ELASTICSEARCH_PASSWORD=${endpoints.elasticsearch.password}\n`);
        if (endpoints.elasticsearch.caFile) process.stdout.write(`# elasticsearch.tls.caFile: ${endpoints.elasticsearch.caFile}\n`);
      }
      if (endpoints.prometheus) process.stdout.write(`export PROMETHEUS_URL=${endpoints.prometheus.url}\n`);
      return 0;
    }
    default:
      process.stderr.write(`stack: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof ForwarderError ? err.message : ((err as Error)?.stack ?? String(err));
    process.stderr.write(`stack: ${message}\n`);
    process.exit(1);
  },
);
