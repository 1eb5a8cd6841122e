/**
 * Sizes and settings of the shared resources, read by the CDK app and by the local runtime,
 * so both run with the same numbers.
 */
export const metricsStream = {
  shardCount: 2,
  retentionHours: 24,
} as const;

/** The aggregator's Kinesis event source mapping. */
export const aggregatorMapping = {
  batchSize: 200,
  maxBatchingWindowSeconds: 2,
  retryAttempts: 5,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
  startingPosition: 'TRIM_HORIZON',
} as const;

/** Resource names for a stage; the local runtime uses the stage `local`. */
export const resourceNames = (stage: string) => ({
  table: `vip-${stage}`,
  metricsStream: `vip-${stage}-metrics`,
  secretsParameter: `/vip/${stage}/platform-secrets`,
  bootstrapDocument: `vip-${stage}-bootstrap-server`,
  provisionServerStateMachine: `vip-${stage}-provision-server`,
  decommissionServerStateMachine: `vip-${stage}-decommission-server`,
  runCommandStateMachine: `vip-${stage}-run-command`,
  rebootServerStateMachine: `vip-${stage}-reboot-server`,
  runCommandDocument: `vip-${stage}-run-command`,
  workflowTasksFunction: `vip-${stage}-workflow-tasks`,
  /** assumed by API functions with a tenant session tag (layers/auth/tenant-policy.ts) */
  tenantDataRole: `vip-${stage}-tenant-data`,
  standardUsagePlan: `vip-${stage}-standard`,
  resellersUsagePlan: `vip-${stage}-resellers`,
});

/**
 * The API contexts that touch only the data of the tenant named in the path. Their handlers
 * reach it under the tenant data role, assumed with the tenant's session tag; the CDK app
 * lets exactly these functions assume it.
 */
export const tenantDataContexts = ['servers', 'operations', 'metrics', 'audit'] as const;

/**
 * API Gateway usage plans. Every signed-in request carries a usage key, which the
 * authorizer names (the API's key source is AUTHORIZER, so a client cannot pick one): a
 * reseller's API tokens share their reseller's own key on the `resellers` plan; everyone
 * else shares the `standard` key. The WAF rate rule still stands in front of both.
 */
export const usagePlans = {
  standard: { throttle: { rateLimit: 500, burstLimit: 1000 } },
  resellers: {
    throttle: { rateLimit: 50, burstLimit: 100 },
    quota: { limit: 1_000_000, period: 'DAY' as const },
  },
} as const;

/** The usage key value of the standard plan. Not a secret: only the authorizer can present it. */
export const standardUsageKey = (stage: string) => `vip-${stage}-standard-usage`;

/** A reseller's usage key value, created with its first API token. */
export const resellerUsageKey = (stage: string, tenantId: string) => `vip-${stage}-reseller-${tenantId}`;
