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
  workflowTasksFunction: `vip-${stage}-workflow-tasks`,
  /** assumed by API functions with a tenant session tag (layers/auth/tenant-policy.ts) */
  tenantDataRole: `vip-${stage}-tenant-data`,
});

/**
 * The API contexts that touch only the data of the tenant named in the path. Their handlers
 * reach it under the tenant data role, assumed with the tenant's session tag; the CDK app
 * lets exactly these functions assume it.
 */
export const tenantDataContexts = ['servers', 'operations', 'metrics', 'audit'] as const;
