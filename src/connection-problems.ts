import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Why a connection to Kafka or Elasticsearch failed, in the words an operator acts on: which part
 * failed (TLS, authentication, reaching the server), what happened and what to change. `check`
 * prints it as its row; `poll` and `sink` show it on /readyz while they wait. Pure: the
 * client certificate's dates come in `setup`, already read. No secret is ever part of it: the
 * libraries' messages quoted here name files, users and mechanisms, never passwords or keys.
 */
export interface ConnectionProblem {
  /** The check row it belongs to: "TLS", "authentication", or reaching the server at all. */
  part: 'TLS' | 'authentication' | 'connection';
  detail: string;
}

/** The message of an error for `problem` met while doing `what`: "connecting to Kafka: TLS: …". */
export function problemMessage(what: string, problem: ConnectionProblem): string {
  return `${what}: ${problem.part === 'connection' ? '' : `${problem.part}: `}${problem.detail}`;
}

/** The client certificate as read from its file: what explains a refusal of it. */
export interface CertificateSummary {
  file: string;
  subject: string;
  issuer: string;
  validFrom: Date;
  validTo: Date;
}

export type TlsProblemKind =
  | 'untrusted'
  | 'server-expired'
  | 'server-not-yet-valid'
  | 'hostname'
  | 'client-certificate-refused'
  | 'client-key-mismatch'
  | 'not-tls';

/** Node's and OpenSSL's words for each TLS failure, in its error code or message. */
const TLS_PATTERNS: ReadonlyArray<[TlsProblemKind, RegExp]> = [
  ['untrusted', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|unable to verify the first certificate|unable to get (local )?issuer certificate|self[- ]signed certificate/i],
  ['server-expired', /CERT_HAS_EXPIRED|certificate has expired/i],
  ['server-not-yet-valid', /CERT_NOT_YET_VALID|certificate is not yet valid/i],
  ['hostname', /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/i],
  // The server's alerts about the certificate this client sent, or did not send.
  ['client-certificate-refused', /alert (bad certificate|certificate unknown|certificate expired|unknown ca|certificate required|unsupported certificate|certificate revoked)|ALERT_(BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|UNKNOWN_CA|CERTIFICATE_REQUIRED)/i],
  ['client-key-mismatch', /key values mismatch|KEY_VALUES_MISMATCH/i],
  ['not-tls', /wrong version number|before secure TLS connection was established|packet length too long|ERR_SSL_WRONG_VERSION_NUMBER/i],
];

interface ErrorLink {
  name: string;
  code: string;
  /** KafkaJS's protocol error type, such as ILLEGAL_SASL_STATE. */
  type: string;
  message: string;
}

/** The error and its causes (`cause`, and KafkaJS's `originalError`), outermost first. */
function errorChain(err: unknown): ErrorLink[] {
  const links: ErrorLink[] = [];
  let current: unknown = err;
  while (current !== null && typeof current === 'object' && links.length < 8) {
    const error = current as { name?: unknown; code?: unknown; type?: unknown; message?: unknown; cause?: unknown; originalError?: unknown };
    links.push({
      name: String(error.name ?? ''),
      code: typeof error.code === 'string' ? error.code : '',
      type: typeof error.type === 'string' ? error.type : '',
      message: String(error.message ?? ''),
    });
    current = error.cause ?? error.originalError;
  }
  if (links.length === 0) links.push({ name: '', code: '', type: '', message: String(err) });
  return links;
}

/** OpenSSL's messages carry an address and source position: "…:SSL routines:…:sslv3 alert bad certificate:…/rec_layer_s3.c:1601:SSL alert number 42". */
function shortReason(message: string): string {
  const alert = /(?:sslv3 |tlsv1 |tlsv13 )?alert [a-z ]+/i.exec(message);
  if (alert && /SSL routines/.test(message)) return alert[0].trim();
  const openssl = /error:[0-9A-F]+:[^:]*:[^:]*:([^:\n]+)/.exec(message);
  if (openssl?.[1]) return openssl[1].trim();
  return message.replace(/^(Connection error|Failed to connect): /, '').trim();
}

/** The TLS failure in an error, if it is one. */
export function tlsProblem(err: unknown): { kind: TlsProblemKind; reason: string } | undefined {
  for (const link of errorChain(err)) {
    for (const [kind, pattern] of TLS_PATTERNS) {
      if (pattern.test(link.code) || pattern.test(link.message)) return { kind, reason: shortReason(link.message) };
    }
  }
  return undefined;
}

/** Reads a certificate file for the explanations above; undefined when it cannot be read or parsed (the connection says why). */
export function summarizeCertificate(file: string): CertificateSummary | undefined {
  if (file === '') return undefined;
  try {
    const certificate = new X509Certificate(readFileSync(file));
    return { file, subject: oneLine(certificate.subject), issuer: oneLine(certificate.issuer), validFrom: new Date(certificate.validFrom), validTo: new Date(certificate.validTo) };
  } catch {
    return undefined;
  }
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.split('\n').join(', ');
}

/** Whether a certificate is outside its validity at `now`, said the way an operator acts on it. */
export function certificateValidity(certificate: CertificateSummary, now: Date): string | undefined {
  if (certificate.validTo.getTime() < now.getTime()) return `it expired on ${certificate.validTo.toISOString()}: renew it`;
  if (certificate.validFrom.getTime() > now.getTime()) return `it is not valid before ${certificate.validFrom.toISOString()}: check the clocks, or issue one valid now`;
  return undefined;
}

/** What the server side is called and which settings configure this client. */
interface TlsSettings {
  /** "the brokers" (plural) or "Elasticsearch". */
  server: string;
  plural: boolean;
  /** The settings' prefix: "kafka.tls" or "elasticsearch.tls". */
  prefix: string;
  caFile: string;
  /** Where the addresses are configured: "kafka.brokers" or "elasticsearch.nodes". */
  addressSetting: string;
  clientCertificate?: CertificateSummary | undefined;
  certFile?: string;
}

function describeTlsProblem(problem: { kind: TlsProblemKind; reason: string }, settings: TlsSettings, now: Date): string {
  const { server, prefix, plural } = settings;
  const theirs = plural ? `${server}'` : `${server}'s`;
  const verb = (word: string) => (plural ? word : `${word}s`);
  const trusted = settings.caFile === '' ? "the system's CAs (no caFile set)" : settings.caFile;
  switch (problem.kind) {
    case 'untrusted':
      return `${theirs} certificate is not signed by a CA this client trusts (${problem.reason}); trusted now: ${trusted}. Set ${prefix}.caFile to the PEM file of the CA that signed ${theirs} certificate`;
    case 'server-expired':
      return `${theirs} certificate has expired (${problem.reason}): ${server} ${verb('need')} a renewed certificate`;
    case 'server-not-yet-valid':
      return `${theirs} certificate is not valid yet (${problem.reason}): check the clocks of both machines`;
    case 'hostname':
      return `${theirs} certificate is not issued for the address connected to (${problem.reason}): connect to a name the certificate lists (${settings.addressSetting}), or have a certificate issued for this address`;
    case 'client-certificate-refused': {
      const certificate = settings.clientCertificate;
      if (!settings.certFile) {
        return `${server} ${verb('require')} a client certificate (mutual TLS) and none is configured (${problem.reason}): set ${prefix}.certFile and ${prefix}.keyFile`;
      }
      if (!certificate) return `${server} refused the client certificate ${settings.certFile} (${problem.reason}): check that it is the certificate signed for this client`;
      const validity = certificateValidity(certificate, now);
      if (validity) return `${server} refused the client certificate ${certificate.file} (${problem.reason}): ${validity}`;
      return `${server} refused the client certificate ${certificate.file} (subject ${certificate.subject}, issued by ${certificate.issuer}; ${problem.reason}): it must be signed by a CA that ${server} ${verb('trust')}`;
    }
    case 'client-key-mismatch':
      return `${prefix}.keyFile is not the private key of the certificate ${settings.certFile ?? ''} (${problem.reason}): configure the key that was issued with it`;
    case 'not-tls':
      return `${server} did not answer in TLS (${problem.reason}): is this a plain-text port? Use ${theirs} TLS address, or turn TLS off for a plain-text one`;
  }
}

/** How this client connects to Kafka, as far as explaining a failure needs. */
export interface KafkaConnectionSetup {
  brokers: readonly string[];
  tls: { enabled: boolean; caFile: string; certFile: string };
  clientCertificate?: CertificateSummary | undefined;
  sasl: { mechanism: string; username: string; passwordFile: string };
}

/** Why connecting to the brokers failed (KafkaJS's error as the admin client or producer throws it). */
export function kafkaConnectionProblem(err: unknown, setup: KafkaConnectionSetup, now: Date = new Date()): ConnectionProblem {
  const chain = errorChain(err);
  const tls = tlsProblem(err);
  if (tls) {
    return {
      part: 'TLS',
      detail: describeTlsProblem(tls, { server: 'the brokers', plural: true, prefix: 'kafka.tls', caFile: setup.tls.caFile, addressSetting: 'kafka.brokers', clientCertificate: setup.clientCertificate, certFile: setup.tls.certFile }, now),
    };
  }
  const sasl = chain.find((link) => link.name === 'KafkaJSSASLAuthenticationError');
  if (sasl) {
    const mechanism = setup.sasl.mechanism.toUpperCase();
    const where = setup.sasl.passwordFile ? `the file ${setup.sasl.passwordFile} (kafka.sasl.passwordFile, read again at each connection)` : 'kafka.sasl.password (KAFKA_SASL_PASSWORD)';
    return {
      part: 'authentication',
      detail: `the brokers refused the ${mechanism} login of user "${setup.sasl.username}" (${sasl.message}): check the password in ${where}, and that the user exists for ${mechanism} (kafka-configs --describe --entity-type users)`,
    };
  }
  const brokers = setup.brokers.join(', ');
  if (chain.some((link) => link.type === 'ILLEGAL_SASL_STATE')) {
    return {
      part: 'connection',
      detail: `${brokers} do not take a SASL login on this listener (kafka.sasl.mechanism is ${setup.sasl.mechanism}): connect to the brokers' SASL listener, or set kafka.sasl.mechanism to none`,
    };
  }
  if (chain.some((link) => link.name === 'KafkaJSConnectionClosedError' || /Closed connection/.test(link.message))) {
    return {
      part: 'connection',
      detail: `${brokers} closed the connection at once: the listener may expect TLS or SASL that this client does not use (kafka.tls.enabled is ${setup.tls.enabled}, kafka.sasl.mechanism is ${setup.sasl.mechanism}); check them against the listener's security protocol`,
    };
  }
  const outer = chain[0] as ErrorLink;
  return { part: 'connection', detail: `${shortReason(outer.message)} (brokers ${brokers}): check kafka.brokers, TLS and SASL settings` };
}

/** How this client connects to Elasticsearch, as far as explaining a failure needs. */
export interface ElasticsearchConnectionSetup {
  nodes: readonly string[];
  caFile: string;
  auth: { username: string; passwordFile: string; apiKey: boolean };
}

/**
 * Why a request to Elasticsearch failed, when the cause is the connection or the credentials;
 * undefined for answers about the request itself (a 400, a 403, a 429), which their callers explain.
 */
export function elasticsearchConnectionProblem(err: unknown, setup: ElasticsearchConnectionSetup, now: Date = new Date()): ConnectionProblem | undefined {
  const meta = (err as { meta?: { statusCode?: number; body?: { error?: { type?: string; reason?: string } } } } | undefined)?.meta;
  if (meta?.statusCode === 401) {
    const refused = meta.body?.error ? `401 ${meta.body.error.type}: ${meta.body.error.reason}` : '401';
    const what = setup.auth.apiKey
      ? 'the API key in elasticsearch.auth.apiKey or the file elasticsearch.auth.apiKeyFile'
      : setup.auth.username === ''
        ? 'no credentials are configured: set elasticsearch.auth.username and its password'
        : `the password of user "${setup.auth.username}" in ${setup.auth.passwordFile ? `the file ${setup.auth.passwordFile} (elasticsearch.auth.passwordFile, read again after each 401)` : 'elasticsearch.auth.password (ELASTICSEARCH_PASSWORD)'}`;
    return { part: 'authentication', detail: `Elasticsearch refused the credentials (${refused}); check elasticsearch.auth: ${what}` };
  }
  const tls = tlsProblem(err);
  if (tls) return { part: 'TLS', detail: describeTlsProblem(tls, { server: 'Elasticsearch', plural: false, prefix: 'elasticsearch.tls', caFile: setup.caFile, addressSetting: 'elasticsearch.nodes' }, now) };
  const plainToTls = setup.nodes.some((node) => node.startsWith('http:')) && errorChain(err).some((link) => /other side closed|socket hang up|ECONNRESET/i.test(`${link.code} ${link.message}`));
  if (plainToTls) {
    return { part: 'TLS', detail: `Elasticsearch closed the connection to ${setup.nodes.join(', ')} without an answer: if it serves HTTPS, use https:// URLs in elasticsearch.nodes (${shortReason(errorChain(err)[0]?.message ?? '')})` };
  }
  return undefined;
}
