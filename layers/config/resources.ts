/**
 * Sizes and settings of the shared resources, read by the CDK app and by the local runtime,
 * so both run with the same numbers.
 */
export const metricsStream = {
  shardCount: 2,
  retentionHours: 24,
} as const;

/**
 * The aggregator's Kinesis event source mapping. A 30 s window gathers about three samples of
 * each host into one batch, so a host's minute and latest sample are written about twice a
 * minute rather than six times: DynamoDB writes are most of what metrics cost (docs/costs.md,
 * measured by scripts/bench/metrics-cost.ts: 14.7 write units a host-minute against 38.7 with a
 * 2 s window). Rollups, the latest samples and alert evaluation lag the agents by the window.
 * The batch size lets a window's records of a shard fit one batch (about 1,500 at 1,000 hosts a
 * shard, 2 MB, within Lambda's 6 MB).
 */
export const aggregatorMapping = {
  batchSize: 2000,
  maxBatchingWindowSeconds: 30,
  /**
   * Batches of a shard processed at once. Lambda keeps each partition key's records in order
   * (a server's samples are its partition key), so a server's minute still has one writer at a
   * time; 2 lets a shard catch up twice as fast after a stall.
   */
  parallelizationFactor: 2,
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
  workflowTasksFunction: `vip-${stage}-workflow-tasks`,
  /** where Run Command streams the output of the commands the workflows send (a deploy's log) */
  hostCommandLogs: `/vip/${stage}/host-commands`,
  /** assumed by API functions with a tenant session tag (layers/auth/tenant-policy.ts) */
  tenantDataRole: `vip-${stage}-tenant-data`,
  standardUsagePlan: `vip-${stage}-standard`,
  /** backups' objects; bucket names are global, so the account and region are part of it */
  backupsBucket: (account: string, region: string) => `vip-${stage}-backups-${account}-${region}`,
  resellersUsagePlan: `vip-${stage}-resellers`,
  /** the bus domain events are put on (alert transitions) */
  eventBus: `vip-${stage}-events`,
  /** alert webhooks waiting to be delivered, and those that never were */
  webhookQueue: `vip-${stage}-webhooks`,
  webhookDeadLetters: `vip-${stage}-webhooks-dlq`,
});

/** A host document's name in a stage (step-functions/workflows.ts names the documents). */
export const hostDocumentName = (stage: string, document: string) => `vip-${stage}-${document}`;

/** A host document's name from the stage's prefix (`DOCUMENT_NAME_PREFIX`, `vip-<stage>-`). */
export const documentName = (prefix: string, document: string) => `${prefix}${document}`;

/** A workflow's state machine name in a stage (step-functions/workflows.ts names the workflows). */
export const stateMachineName = (stage: string, workflow: string) => `vip-${stage}-${workflow}`;

/**
 * A workflow's state machine ARN from the stage's prefix (`STATE_MACHINE_ARN_PREFIX`: the ARN
 * up to the machine's name), so a function starts any workflow without a variable of its own.
 */
export const stateMachineArn = (prefix: string, workflow: string) => `${prefix}${workflow}`;

/** The ARN of one of a state machine's executions, which are named after their operations. */
export const executionArn = (stateMachine: string, name: string) =>
  `${stateMachine.replace(':stateMachine:', ':execution:')}:${name}`;

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

/** The alert webhooks' queue: how long a delivery may take, and how many tries before the DLQ. */
export const webhookQueue = {
  visibilityTimeoutSeconds: 60,
  maxReceiveCount: 5,
  batchSize: 10,
  /** a delivery's request gives up after this long */
  requestTimeoutSeconds: 10,
} as const;
