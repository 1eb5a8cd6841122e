import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // feature tests beside their features; test/e2e boots the whole local runtime
    include: ['{functions,layers,scripts,infra,step-functions,test}/**/*.test.ts'],
    // DynamoDB Local and kinesis-local start once for the run; each file makes its own table
    // and streams on them and sets its own environment in its own process.
    globalSetup: ['test/support/global-engines.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    // The handlers' structured logs and EMF metrics are for CloudWatch, not for the test output.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_DEV: 'false' },
  },
});
