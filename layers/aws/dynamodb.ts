import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { TENANT_SESSION_TAG } from '../auth/tenant-policy';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

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
