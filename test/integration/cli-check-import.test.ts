import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { readToEnd } from '../../src/kafka/read-to-end.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/net.js';
import { readPublishedEvents, writeTestConfig } from '../support/forwarder.js';
import { elasticsearchEndpoint } from '../support/stack.js';
import { uniqueName } from '../support/wait.js';

describe('okta-forwarder check and import against the real services', () => {
  let sim: SimulatorHandle | undefined;
  afterEach(async () => sim?.close());

  function esSettings() {
    const es = elasticsearchEndpoint();
    return { config: { nodes: [es.url], auth: { username: es.username } }, env: { ELASTICSEARCH_PASSWORD: es.password } };
  }

  it('check passes every row for a working org, Kafka and Elasticsearch', async () => {
    const token = uniqueName('token');
    sim = await startSimulator({ apiTokens: [token], rateLimitPerMinute: 120 });
    sim.generate(10);
    const es = esSettings();
    const { file } = writeTestConfig([{ id: 'acme', domain: sim.domain, token }], { elasticsearch: es.config });
    const result = await runCli(['check', '--config', file], es.env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toContain('schema registry'); // none configured: no row
    for (const row of ['okta acme: connection', 'okta acme: authentication', 'okta acme: System Log permission', 'okta acme: rate limit', 'kafka: brokers', 'kafka: topics', 'kafka: transactions', 'elasticsearch: reachable', 'elasticsearch: version']) {
      expect(result.stdout).toMatch(new RegExp(`PASS  ${row}`));
    }
    expect(result.stdout).toMatch(/of 120 requests\/min left this minute; this forwarder may use 120/);
    expect(result.stdout).toMatch(/Elasticsearch 8\./);
  });

  it('check fails with what to do when the token is wrong and Elasticsearch refuses the password', async () => {
    sim = await startSimulator({ apiTokens: ['the-right-token'] });
    const es = esSettings();
    // A schema registry configured where nothing listens.
    const registry = `http://127.0.0.1:${await freePort()}`;
    const { file } = writeTestConfig([{ id: 'acme', domain: sim.domain, token: 'a-wrong-token-value' }], { elasticsearch: es.config, schemaRegistry: { url: registry } });
    const result = await runCli(['check', '--config', file], { ELASTICSEARCH_PASSWORD: 'not-the-password' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`FAIL {2}schema registry +reading subject ".*-value" from the schema registry ${registry}/: connection refused`));
    expect(result.stdout).toMatch(/FAIL {2}okta acme: authentication +Okta .* answered 401 E0000011 .*Create a new one/);
    expect(result.stdout).toMatch(/FAIL {2}elasticsearch: authentication +Elasticsearch refused the credentials \(401 security_exception: .*\); check elasticsearch\.auth: the password of user "elastic"/);
    expect(result.stdout).toMatch(/PASS {2}kafka: transactions/);
    expect(result.stdout + result.stderr).not.toContain('a-wrong-token-value');
  });

  it('import publishes an NDJSON export with the poller encoding and dead-letters the lines that are not events', async () => {
    sim = await startSimulator({ seed: 3 });
    const events = sim.generate(2_500);
    const { config, file, dir } = writeTestConfig([]);
    const input = join(dir, 'export.ndjson');
    const lines = events.map((event) => JSON.stringify(event));
    lines.splice(100, 0, '{"uuid": "broken", "published": ');
    lines.splice(2000, 0, '[1, 2, 3]');
    writeFileSync(input, `${lines.join('\n')}\n`);

    const result = await runCli(['import', input, '--org', 'acme', '--config', file]);
    expect(result.code, result.stderr).toBe(3); // done, some lines dead-lettered
    expect(result.stderr).toContain('imported 2,500 events');
    expect(result.stderr).toContain('2 lines went to the dead-letter topic');

    const kafka = createKafka(config.kafka);
    const published = await readPublishedEvents(kafka, config);
    const byUuid = (a: { uuid?: unknown }, b: { uuid?: unknown }) => String(a.uuid).localeCompare(String(b.uuid));
    expect(published.map((p) => p.event).sort(byUuid)).toEqual([...events].sort(byUuid));
    expect(published.every((p) => p.org === 'acme' && p.uuid === p.event.uuid)).toBe(true);
    const deadLetters: { reason?: string; line?: string }[] = [];
    await readToEnd(kafka, config.kafka.topics.deadLetter, (message) =>
      deadLetters.push({ reason: message.headers?.reason?.toString(), line: message.headers?.['source.line']?.toString() }),
    );
    expect(deadLetters).toEqual([
      { reason: expect.stringMatching(/^not JSON/), line: '101' },
      { reason: 'not a JSON object', line: '2001' },
    ]);
  });
});
