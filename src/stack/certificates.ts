import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ForwarderError } from '../errors.js';
import { commandExists, run } from './processes.js';

/**
 * The certificates of the secure local stack, made with openssl: a CA of the stack's own, one
 * server certificate for 127.0.0.1 and localhost (Kafka's SASL_SSL listeners and Elasticsearch's
 * HTTPS), and one client certificate for Kafka's mutual-TLS listener. PEM files, keys unencrypted
 * (PKCS#8): Kafka and Elasticsearch both read PEM, so no keytool keystore is needed.
 */
export interface StackCertificates {
  /** The CA's certificate: what clients trust (kafka.tls.caFile, elasticsearch.tls.caFile). */
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** A client certificate signed by the CA (kafka.tls.certFile / keyFile for mutual TLS). */
  clientCertFile: string;
  clientKeyFile: string;
}

/** A CA made here: its folder holds its key, certificate and openssl's issuing database. */
export interface CertificateAuthority {
  dir: string;
  certFile: string;
  keyFile: string;
}

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

export interface CertificateRequest {
  /** File name stem in the CA's folder, and the certificate's common name. */
  name: string;
  /** Server certificates carry the host names and addresses they serve (subjectAltName). */
  usage: 'server' | 'client';
  /** Validity as openssl's YYYYMMDDHHMMSSZ; default: from yesterday for ten years. An end in the past makes an expired certificate. */
  startDate?: string;
  endDate?: string;
}

/** The names a server certificate of the stack is valid for: the stack binds to loopback only. */
export const SERVER_NAMES = 'IP:127.0.0.1,DNS:localhost';

function requireOpenssl(): void {
  if (!commandExists('openssl')) {
    throw new ForwarderError('OF_STACK_PREREQUISITE', 'making the secure stack\'s certificates: openssl is not installed (apt-get install openssl)');
  }
}

/** openssl's YYYYMMDDHHMMSSZ of a date. */
export function opensslDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}

/** Creates a CA in `dir` (kept when it exists already): a self-signed certificate and its key. */
export function createCertificateAuthority(dir: string, commonName: string): CertificateAuthority {
  requireOpenssl();
  const ca = { dir, certFile: join(dir, 'ca.pem'), keyFile: join(dir, 'ca-key.pem') };
  if (existsSync(ca.certFile) && existsSync(ca.keyFile)) return ca;
  mkdirSync(join(dir, 'issued'), { recursive: true, mode: 0o755 });
  // openssl ca's database: the only openssl 3.0 command that sets a certificate's start and end dates.
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'openssl.cnf'),
    [
      '[ ca ]',
      'default_ca = stack_ca',
      '[ stack_ca ]',
      `database = ${join(dir, 'index.txt')}`,
      `new_certs_dir = ${join(dir, 'issued')}`,
      `serial = ${join(dir, 'serial')}`,
      'default_md = sha256',
      'policy = any_name',
      'unique_subject = no',
      '[ any_name ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  run(
    'openssl',
    ['req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', ca.keyFile, '-out', ca.certFile],
    `creating the certificate authority ${commonName}`,
  );
  return ca;
}

/** Issues a key and certificate signed by `ca`, into the CA's folder as <name>.pem and <name>-key.pem. */
export function issueCertificate(ca: CertificateAuthority, request: CertificateRequest): IssuedCertificate {
  const issued = { certFile: join(ca.dir, `${request.name}.pem`), keyFile: join(ca.dir, `${request.name}-key.pem`) };
  if (existsSync(issued.certFile) && existsSync(issued.keyFile)) return issued;
  const csr = join(ca.dir, `${request.name}.csr`);
  const extensions = join(ca.dir, `${request.name}.ext`);
  writeFileSync(
    extensions,
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      request.usage === 'server' ? `extendedKeyUsage = serverAuth\nsubjectAltName = ${SERVER_NAMES}` : 'extendedKeyUsage = clientAuth',
      '',
    ].join('\n'),
  );
  const what = `issuing the certificate ${request.name}`;
  run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${request.name}`, '-keyout', issued.keyFile, '-out', csr], what);
  const yesterday = new Date(Date.now() - 86_400_000);
  const startDate = request.startDate ?? opensslDate(yesterday);
  const endDate = request.endDate ?? opensslDate(new Date(yesterday.getTime() + 3650 * 86_400_000));
  run(
    'openssl',
    ['ca', '-batch', '-notext', '-config', join(ca.dir, 'openssl.cnf'), '-cert', ca.certFile, '-keyfile', ca.keyFile, '-in', csr,
      '-startdate', startDate, '-enddate', endDate, '-extfile', extensions, '-out', issued.certFile],
    what,
  );
  return issued;
}

/** The stack's CA and certificates in `dir`, made on the first call and reused after. */
export function stackCertificates(dir: string): StackCertificates {
  const ca = createCertificateAuthority(dir, 'okta-forwarder local stack CA');
  const server = issueCertificate(ca, { name: 'server', usage: 'server' });
  const client = issueCertificate(ca, { name: 'okta-forwarder', usage: 'client' });
  return { caFile: ca.certFile, serverCertFile: server.certFile, serverKeyFile: server.keyFile, clientCertFile: client.certFile, clientKeyFile: client.keyFile };
}
