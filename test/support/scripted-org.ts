import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import type { EncodedEvent } from '../../src/kafka/messages.js';
import { tempDir } from './temp.js';

/** The configuration of one org, `acme`, for unit tests of its poller (an hour between polls: each test drives the pages). */
export function unitOrgConfig() {
  const file = join(tempDir('okta-forwarder-unit-'), 'config.json');
  writeFileSync(file, JSON.stringify({ okta: { orgs: [{ id: 'acme', domain: 'acme.okta.com', auth: { tokenEnv: 'OKTA_TOKEN_TEST' }, pollIntervalSeconds: 3600 }] } }));
  return loadConfig({ file, env: { OKTA_TOKEN_TEST: 'x' } }).config.okta.orgs[0]!;
}

/** The events of scripted page `n`, already encoded: uuid-<n>-<i>, one a second from 2026-01-01 00:<n>:00. */
export function scriptedPageEvents(n: number, items: number): EncodedEvent[] {
  return Array.from({ length: items }, (_, i) => ({
    key: `uuid-${n}-${i}`,
    eventType: 'user.session.start',
    published: new Date(Date.UTC(2026, 0, 1, 0, n, i)).toISOString(),
    value: Buffer.from([n, i]),
  }));
}
