import { defineConfig } from 'vitest/config';

// Two kinds of tests: `unit` needs no service and runs in seconds; `integration` talks to the real
// Kafka, Elasticsearch and Prometheus that test/integration/global-setup.ts starts or reuses once
// per run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // A few unit tests generate or encode thousands of events: seconds on a quiet machine,
          // more while the integration project keeps the two cores busy. A limit, not a measure.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Two cores: the services already use them; run integration files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
