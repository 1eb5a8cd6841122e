import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TENANT_SESSION_TAG, tenantDataActions, tenantMayUse } from '../../layers/auth/tenant-policy';
import { tableDefinition } from '../../layers/store/table-definition';
import type { LocalSts } from './sts';

type AttributeMap = Record<string, { S?: string } | undefined>;
type Body = Record<string, unknown>;

/** The partition-key attribute names: the table's and each index's. */
const partitionKeyNames = new Set<string>([
  tableDefinition.partitionKey,
  ...tableDefinition.indexes.map((index) => index.partitionKey),
]);

const keyOf = (item: unknown): string | undefined =>
  (item as AttributeMap | undefined)?.[tableDefinition.partitionKey]?.S;

/** The partition key a Query names in its key condition (`#pk = :pk`). */
function queryPartitionKey(body: Body): string | undefined {
  const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (body.ExpressionAttributeValues ?? {}) as AttributeMap;
  for (const match of String(body.KeyConditionExpression ?? '').matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    const name = match[1]?.startsWith('#') ? names[match[1]] : match[1];
    if (name && partitionKeyNames.has(name)) return values[match[2] ?? '']?.S;
  }
  return undefined;
}

/** The IAM actions a request needs and the partition keys it touches, as DynamoDB authorizes it. */
function authorizationOf(operation: string, body: Body): { actions: string[]; keys: (string | undefined)[] } {
  const tableItems = (requestItems: unknown) =>
    Object.values((requestItems ?? {}) as Record<string, unknown>);
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return { actions: [`dynamodb:${operation}`], keys: [keyOf(body.Key)] };
    case 'PutItem':
      return { actions: ['dynamodb:PutItem'], keys: [keyOf(body.Item)] };
    case 'Query':
      return { actions: ['dynamodb:Query'], keys: [queryPartitionKey(body)] };
    case 'BatchGetItem':
      return {
        actions: ['dynamodb:BatchGetItem'],
        keys: tableItems(body.RequestItems).flatMap((t) =>
          ((t as { Keys?: unknown[] }).Keys ?? []).map(keyOf),
        ),
      };
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = (body.TransactItems ?? []) as Record<string, { Key?: unknown; Item?: unknown }>[];
      const verbs = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      return {
        actions: items.flatMap((item) =>
          Object.keys(item).map((verb) => `dynamodb:${verbs[verb as keyof typeof verbs] ?? verb}`),
        ),
        keys: items.flatMap((item) => Object.values(item).map((part) => keyOf(part?.Key ?? part?.Item))),
      };
    }
    default:
      return { actions: [`dynamodb:${operation}`], keys: [] };
  }
}

const accessDenied = (message: string) =>
  Object.assign(new Error(message), {
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

/**
 * Plays IAM for tenant sessions locally: every request a tenant-scoped client sends is
 * checked, as it goes on the wire, against the tenant data role's policy (the same actions
 * and `dynamodb:LeadingKeys` patterns the CDK app puts in it) with the session's tag from
 * the local STS. DynamoDB Local checks no permissions itself, so without this a tenant
 * session could reach anything.
 */
export function enforceTenantPolicy(sts: LocalSts) {
  return (client: DynamoDBClient) => {
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string>; body?: string | Uint8Array };
        const text =
          typeof request.body === 'string'
            ? request.body
            : new TextDecoder().decode(request.body ?? new Uint8Array());
        const operation = String(request.headers?.['x-amz-target'] ?? '').split('.')[1] ?? '';
        const identity = await client.config.credentials();
        const tenant = sts.session(identity.accessKeyId)?.tags[TENANT_SESSION_TAG];
        if (!tenant) throw accessDenied('The security token included in the request is expired or invalid');
        const { actions, keys } = authorizationOf(operation, JSON.parse(text || '{}') as Body);
        const allowedActions = tenantDataActions as readonly string[];
        const denied = actions.find((action) => !allowedActions.includes(action));
        if (denied) throw accessDenied(`Session of tenant ${tenant} is not authorized to perform: ${denied}`);
        if (
          keys.length === 0 ||
          keys.some((key) => key === undefined) ||
          !tenantMayUse(tenant, keys as string[])
        ) {
          throw accessDenied(
            `Session of tenant ${tenant} is not authorized to perform: ${actions[0]} (dynamodb:LeadingKeys ${keys.join(', ')})`,
          );
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'localTenantPolicy', priority: 'high' },
    );
  };
}
