import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KMSClient } from '@aws-sdk/client-kms';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { TENANT_SESSION_TAG } from '../auth/tenant-policy';
import { getConfig } from '../config/config';

/** Memoizes a factory so each client is built once per process, on first use. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

const base = (endpoint: string | undefined) => ({
  region: getConfig().AWS_REGION,
  maxAttempts: 3,
  ...(endpoint ? { endpoint } : {}),
});

/** The DynamoDB document client: plain JS values in and out, undefined attributes dropped. */
export const documentClient = once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient(base(getConfig().DYNAMODB_ENDPOINT)), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  }),
);

/** One HTTP handler for every tenant-scoped client, so they share connections. */
const sharedDynamoHandler = once(
  () => new NodeHttpHandler({ httpsAgent: { keepAlive: true, maxSockets: 50 } }),
);

/** Hooks the local runtime registers to play the part of IAM on tenant sessions. */
const tenantClientHooks: ((client: DynamoDBClient) => void)[] = [];
export function onTenantClient(hook: (client: DynamoDBClient) => void): () => void {
  tenantClientHooks.push(hook);
  return () => {
    tenantClientHooks.splice(tenantClientHooks.indexOf(hook), 1);
  };
}

/**
 * A document client whose requests run under the tenant's own credentials: the tenant data
 * role assumed with the tenant's session tag, refreshed before it expires. IAM then refuses
 * any item outside the tenant's key prefix, whatever the calling code asked for.
 */
export function tenantDocumentClient(roleArn: string, tenantId: string): DynamoDBDocumentClient {
  const config = getConfig();
  const client = new DynamoDBClient({
    ...base(config.DYNAMODB_ENDPOINT),
    requestHandler: sharedDynamoHandler(),
    credentials: fromTemporaryCredentials({
      params: {
        RoleArn: roleArn,
        RoleSessionName: `tenant-${tenantId}`.slice(0, 64),
        DurationSeconds: 900,
        Tags: [{ Key: TENANT_SESSION_TAG, Value: tenantId }],
      },
      clientConfig: {
        region: config.AWS_REGION,
        ...(config.STS_ENDPOINT ? { endpoint: config.STS_ENDPOINT } : {}),
      },
    }),
  });
  for (const hook of tenantClientHooks) hook(client);
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** Kinesis; locally it must speak HTTP/1.1, which kinesis-local requires. */
export const kinesisClient = once(() => {
  const endpoint = getConfig().KINESIS_ENDPOINT;
  return new KinesisClient({
    ...base(endpoint),
    ...(endpoint ? { requestHandler: new NodeHttpHandler() } : {}),
  });
});

export const ssmClient = once(() => new SSMClient(base(getConfig().SSM_ENDPOINT)));

export const logsClient = once(() => new CloudWatchLogsClient(base(getConfig().LOGS_ENDPOINT)));

export const route53Client = once(() => new Route53Client(base(getConfig().ROUTE53_ENDPOINT)));

/**
 * S3, for backups: path-style at a local endpoint; checksums only where S3 requires them, since
 * the parts that hosts upload through presigned URLs carry their own SHA-256 in the manifest.
 */
export const s3Client = once(() => {
  const endpoint = getConfig().S3_ENDPOINT;
  return new S3Client({
    ...base(endpoint),
    ...(endpoint ? { forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

/** KMS, for tenants' backup data keys. */
export const kmsClient = once(() => new KMSClient(base(getConfig().KMS_ENDPOINT)));

export const sfnClient = once(() => new SFNClient(base(getConfig().SFN_ENDPOINT)));

export const sesClient = once(() => new SESv2Client(base(getConfig().SES_ENDPOINT)));

/** API Gateway's management API, for resellers' usage keys. */
export const apiGatewayClient = once(() => new APIGatewayClient(base(getConfig().APIGATEWAY_ENDPOINT)));

/** EventBridge, for domain events (alert transitions). */
export const eventsClient = once(() => new EventBridgeClient(base(getConfig().EVENTS_ENDPOINT)));

/** SQS, for the alert webhooks' queue. */
export const sqsClient = once(() => new SQSClient(base(getConfig().SQS_ENDPOINT)));
