import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority, type IssuedCertificate } from '../../src/stack/certificates.js';
import type { ElasticsearchEndpoint, KafkaEndpoint, KafkaSecurity } from '../../src/stack/endpoints.js';
import { certificatesDir } from '../../src/stack/local.js';
import { stackSettings, type StackSettings } from '../../src/stack/settings.js';
import { down, up } from '../../src/stack/stack.js';
import { freePorts } from './net.js';

/**
 * The secure stack (src/stack, `up --secure`) of one test file, on free ports and in a folder of
 * its own: Kafka with SASL_SSL (SCRAM-SHA-512) and a listener that also requires a client
 * certificate, Elasticsearch over HTTPS, both with certificates of the stack's own CA. Beside it,
 * what a misconfiguration needs: another CA, and client certificates that are expired or signed
 * by that other CA.
 */
export interface SecureStack {
  kafka: KafkaEndpoint & { security: KafkaSecurity };
  elasticsearch: ElasticsearchEndpoint & { caFile: string };
  /** A CA that signed neither server's certificate. */
  otherCa: CertificateAuthority;
  /** Signed by the stack's CA, valid only in January 2020. */
  expiredClient: IssuedCertificate;
  /** Valid, but signed by the other CA. */
  foreignClient: IssuedCertificate;
  remove(): Promise<void>;
}

/** Passwords no other test uses, so a leak of one is found by looking for it. */
export const SECURE_STACK_PASSWORDS = { kafka: 'scram-pass-7c4e1a', elastic: 'elastic-pass-93b2d0' } as const;

export async function startSecureStack(): Promise<SecureStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'okta-forwarder-secure-'));
  // Elasticsearch runs as `nobody` when the tests run as root: its folder must be reachable.
  chmodSync(stateDir, 0o755);
  const [kafkaPort, controllerPort, mtlsPort, internalPort, httpPort, transportPort] = (await freePorts(6)) as [number, number, number, number, number, number];
  const env: NodeJS.ProcessEnv = {
    OKTA_FORWARDER_STACK_DIR: stateDir,
    OKTA_FORWARDER_CACHE_DIR: stackSettings().cacheDir,
    STACK_KAFKA_PORT: String(kafkaPort),
    STACK_KAFKA_CONTROLLER_PORT: String(controllerPort),
    STACK_KAFKA_MTLS_PORT: String(mtlsPort),
    STACK_KAFKA_INTERNAL_PORT: String(internalPort),
    STACK_ELASTICSEARCH_PORT: String(httpPort),
    STACK_ELASTICSEARCH_TRANSPORT_PORT: String(transportPort),
    STACK_KAFKA_PASSWORD: SECURE_STACK_PASSWORDS.kafka,
    STACK_ELASTIC_PASSWORD: SECURE_STACK_PASSWORDS.elastic,
  };
  const settings: StackSettings = { ...stackSettings(env, { secure: true }), elasticsearchHeap: '256m' };
  const report = (line: string) => process.stderr.write(`[secure stack] ${line}\n`);
  const remove = async () => {
    await down(settings, ['kafka', 'elasticsearch'], report);
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const { endpoints } = await up(settings, ['kafka', 'elasticsearch'], report, { ...process.env, OKTA_FORWARDER_STACK_PROVIDER: 'local' });
    const ca = createCertificateAuthority(certificatesDir(settings), 'okta-forwarder local stack CA');
    const otherCa = createCertificateAuthority(join(stateDir, 'other-ca'), 'a CA nobody here trusts');
    return {
      kafka: endpoints.kafka as SecureStack['kafka'],
      elasticsearch: endpoints.elasticsearch as SecureStack['elasticsearch'],
      otherCa,
      expiredClient: issueCertificate(ca, { name: 'expired-client', usage: 'client', startDate: '20200101000000Z', endDate: '20200131000000Z' }),
      foreignClient: issueCertificate(otherCa, { name: 'foreign-client', usage: 'client' }),
      remove,
    };
  } catch (err) {
    await remove();
    throw err;
  }
}
