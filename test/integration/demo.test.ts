import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('okta-forwarder demo', () => {
  it('streams a simulated org through Kafka into Elasticsearch and says what landed and how to go on', { timeout: 300_000 }, async () => {
    // The stack is already up (the global setup), so the demo reuses it and leaves it running.
    const startedAt = new Date().toISOString();
    const result = await runCli(['demo', '--history-events', '3000', '--exit-when-done'], {
      ...(process.env.OKTA_FORWARDER_STACK_DIR ? { OKTA_FORWARDER_STACK_DIR: process.env.OKTA_FORWARDER_STACK_DIR } : {}),
      ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
    });
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    expect(result.stderr).toMatch(/an Okta org simulated at http:\/\/127\.0\.0\.1:\d+ with 3,000 events over the last 60 days/);
    const total = /What landed in Elasticsearch \(index pattern okta-activity-\*, tenant (demo-\w+)\): ([\d,]+) activity documents/.exec(result.stdout);
    expect(total, result.stdout.slice(0, 2000)).not.toBeNull();
    // The history, plus whatever live traffic arrived meanwhile.
    expect(Number(total![2]!.replaceAll(',', ''))).toBeGreaterThanOrEqual(3000);
    expect(result.stdout).toMatch(/Authentication +[\d,]+ +.*Success [\d,]+/);
    expect(result.stdout).toMatch(/Failure [\d,]+/);
    // Statuses are the OCSF ones an analyst filters on, each explained; Okta's raw values are not beside them.
    expect(result.stdout).toMatch(/^ {2}Success \(status_id 1\) +\S/m);
    expect(result.stdout).toMatch(/^ {2}Failure \(status_id 2\) +\S/m);
    expect(result.stdout).not.toMatch(/^ {2}Authentication .*(SUCCESS|ALLOW|CHALLENGE)/m);
    // A healthy run logs no error line.
    const logFile = /the forwarder's JSON logs go to (\S+)/.exec(result.stderr)?.[1];
    expect(logFile, result.stderr.slice(0, 2000)).toBeDefined();
    const lines = readFileSync(logFile!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: string; time: string; msg: string })
      .filter((line) => line.time >= startedAt);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
    expect(result.stdout).toMatch(/A failed sign-in, as analysts see it:\n\{/);
    expect(result.stdout).toContain('To forward a real Okta org');
    expect(result.stderr).toContain('demo: stopping');
  });
});
