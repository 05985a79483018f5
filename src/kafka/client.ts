import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { readSecret, readTlsFile, type ForwarderConfig } from '../config/index.js';
import { kafkaConnectionProblem, problemMessage, summarizeCertificate, type KafkaConnectionSetup } from '../connection-problems.js';
import { ForwarderError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
// Every read_committed consumer of the forwarder skips all records of aborted transactions (see the module).
import './read-committed.js';

/** KafkaJS options from the forwarder's configuration: brokers, TLS, SASL (password read from its file or variable). */
export function kafkaClientConfig(kafka: ForwarderConfig['kafka'], logger?: Logger): KafkaConfig {
  const { tls, sasl } = kafka;
  const ssl = tls.enabled
    ? {
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.caFile ? { ca: [readTlsFile('kafka.tls.caFile', tls.caFile)] } : {}),
        ...(tls.certFile ? { cert: readTlsFile('kafka.tls.certFile', tls.certFile), key: readTlsFile('kafka.tls.keyFile', tls.keyFile) } : {}),
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

/** What explaining a failed connection needs to know of the configuration (and the client certificate, read from its file now). */
export function kafkaConnectionSetup(kafka: ForwarderConfig['kafka']): KafkaConnectionSetup {
  return {
    brokers: kafka.brokers,
    tls: { enabled: kafka.tls.enabled, caFile: kafka.tls.caFile, certFile: kafka.tls.certFile },
    clientCertificate: kafka.tls.enabled ? summarizeCertificate(kafka.tls.certFile) : undefined,
    sasl: { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, passwordFile: kafka.sasl.passwordFile },
  };
}

/**
 * A failed connection to the brokers as the forwarder reports it: what failed (TLS, the SASL
 * login, reaching them) and what to change, retriable (an operator may be fixing it).
 */
export function kafkaConnectionError(err: unknown, kafka: ForwarderConfig['kafka'], what = 'connecting to Kafka'): ForwarderError {
  if (err instanceof ForwarderError) return err;
  const problem = kafkaConnectionProblem(err, kafkaConnectionSetup(kafka));
  return new ForwarderError('OF_KAFKA_CONNECTION', problemMessage(what, problem), { retriable: true, cause: err });
}

const IDEMPOTENT_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/**
 * Broker answers that are part of normal work, which KafkaJS retries by itself and which end by
 * themselves: CONCURRENT_TRANSACTIONS, the broker still completing the previous transaction (after
 * every commit, and when a restarted poller's producer aborts its predecessor's transaction);
 * a coordinator still loading its state after a broker start.
 */
const RETRIED_BY_KAFKAJS_OR_FORWARDER = /^(Response |Failed to send messages: |Connection error|Failed to connect|SASL )/;

const EXPECTED_BROKER_WAITS = ['another concurrent operation on the same transaction', 'The coordinator is loading'];

/**
 * The level of a KafkaJS line in the forwarder's log. A condition KafkaJS retries by itself is no
 * error: an expected one is debug, others (a connection lost, a leader moving) a warning, and the
 * forwarder reports the failure itself (a warning, a state) if KafkaJS's retries run out.
 */
function kafkaLogLevel(level: logLevel, message: string, extra: Record<string, unknown>): 'error' | 'warn' | 'info' | 'debug' {
  const text = `${message} ${typeof extra.error === 'string' ? extra.error : ''}`;
  // KafkaJS warns that a transactional producer with limited retries "may invalidate EoS
  // guarantees": re-sending a batch under sequence numbers the broker has already seen, in a
  // later transaction, makes the broker drop it as a duplicate. The forwarder never does: after
  // any failed transaction it starts a new producer (a new epoch, new sequence numbers) and
  // reads the checkpoint back (src/kafka/publisher.ts). The warning does not apply.
  if (message === IDEMPOTENT_RETRIES_WARNING) return 'debug';
  if (level <= logLevel.WARN && EXPECTED_BROKER_WAITS.some((wait) => text.includes(wait))) return 'debug';
  // Broker error responses and the sends KafkaJS retries itself, failed connections and logins,
  // which the forwarder waits out and explains in its own line: warnings, not errors.
  if (level <= logLevel.ERROR) return RETRIED_BY_KAFKAJS_OR_FORWARDER.test(message) ? 'warn' : 'error';
  if (level === logLevel.WARN) return 'warn';
  if (level === logLevel.INFO) return 'info';
  return 'debug';
}

/** Routes KafkaJS's own log lines into the forwarder's logger (and so through its redaction). */
function kafkaLogCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      // KafkaJS attaches the stack of a failed connection: where Node noticed it, nothing an
      // operator acts on, and a stack trace in the log reads like a crash. The message says it all.
      const { message, stack: _stack, ...extra } = log;
      child[kafkaLogLevel(level, message, extra)](extra, message);
    };
}
