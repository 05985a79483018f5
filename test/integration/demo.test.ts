import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('okta-forwarder demo', () => {
  it('streams a simulated org through Kafka into Elasticsearch and says what landed and how to go on', { timeout: 300_000 }, async () => {
    // The stack is already up (the global setup), so the demo reuses it and leaves it running.
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
    expect(result.stdout).toMatch(/A failed sign-in, as analysts see it:\n\{/);
    expect(result.stdout).toContain('To forward a real Okta org');
    expect(result.stderr).toContain('demo: stopping');
  });
});
