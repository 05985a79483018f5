import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { readSecret, type ForwarderConfig } from '../config/index.js';
import type { Logger } from '../logging/logger.js';
// Every read_committed consumer of the forwarder skips all records of aborted transactions (see the module).
import './read-committed.js';

/** KafkaJS options from the forwarder's configuration: brokers, TLS, SASL (password read from its file or variable). */
export function kafkaClientConfig(kafka: ForwarderConfig['kafka'], logger?: Logger): KafkaConfig {
  const { tls, sasl } = kafka;
  const ssl = tls.enabled
    ? {
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.caFile ? { ca: [readFileSync(tls.caFile, 'utf8')] } : {}),
        ...(tls.certFile ? { cert: readFileSync(tls.certFile, 'utf8'), key: readFileSync(tls.keyFile, 'utf8') } : {}),
      }
    : false;
  let saslOptions: SASLOptions | undefined;
  if (sasl.mechanism !== 'none') {
    const source = { value: sasl.password, file: sasl.passwordFile, username: sasl.username };
    // Read now, so a missing file is reported at start, and again by every new connection, which
    // reads `password` when it authenticates: a fixed or rotated password file is used by the next
    // connection attempt, without a restart.
    readSecret(source, 'the Kafka SASL password');
    saslOptions = {
      mechanism: sasl.mechanism,
      username: sasl.username,
      get password() {
        return readSecret(source, 'the Kafka SASL password');
      },
    } as SASLOptions;
  }
  return {
    clientId: kafka.clientId,
    brokers: kafka.brokers,
    ssl,
    ...(saslOptions ? { sasl: saslOptions } : {}),
    // Without a logger (tools, tests) KafkaJS stays quiet; errors still reach the caller.
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: logger ? kafkaLogCreator(logger) : undefined,
  };
}

/**
 * Retries of a transactional producer. Each transaction's first send waits until the broker has
 * finished the previous commit (CONCURRENT_TRANSACTIONS, retried): KafkaJS's default first
 * backoff of 300 ms made that wait most of a page's publish time (bench/poller.ts), where the
 * Java client backs off 20 ms. Ten doublings from 20 ms still ride out about 20 s of broker
 * trouble, and the callers retry on top.
 */
export const TRANSACTIONAL_RETRY = { initialRetryTime: 20, retries: 10 } as const;

export function createKafka(kafka: ForwarderConfig['kafka'], logger?: Logger): Kafka {
  return new Kafka(kafkaClientConfig(kafka, logger));
}

const IDEMPOTENT_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** Routes KafkaJS's own log lines into the forwarder's logger (and so through its redaction). */
function kafkaLogCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      // KafkaJS warns that a transactional producer with limited retries "may invalidate EoS
      // guarantees": re-sending a batch under sequence numbers the broker has already seen, in a
      // later transaction, makes the broker drop it as a duplicate. The forwarder never does: after
      // any failed transaction it starts a new producer (a new epoch, new sequence numbers) and
      // reads the checkpoint back (src/kafka/publisher.ts). The warning does not apply.
      if (message === IDEMPOTENT_RETRIES_WARNING) return child.debug(extra, message);
      // KafkaJS logs every broker error response at ERROR, also the ones it retries itself
      // (a coordinator loading, a transaction still completing): those are warnings.
      if (level <= logLevel.ERROR && !message.startsWith('Response ')) child.error(extra, message);
      else if (level <= logLevel.ERROR) child.warn(extra, message);
      else if (level === logLevel.WARN) child.warn(extra, message);
      else if (level === logLevel.INFO) child.info(extra, message);
      else child.debug(extra, message);
    };
}
