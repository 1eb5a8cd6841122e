import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import type { Clock } from '../../layers/ids/ids';
import { makeCursorCodec } from '../../layers/store/cursor';
import { makeStore } from '../../layers/store/store';
import { dynamoDbClient, ensureTable } from '../../scripts/local/engines';

/** A name no other test file uses on the shared engines. */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

/** A table of its own on the run's shared DynamoDB Local, created from the product's definition. */
export async function startDynamoDbLocal(tableName = uniqueName('vip-test')) {
  const client = dynamoDbClient(inject('engines').dynamodb);
  await ensureTable(client, tableName);
  const documentClient = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    client,
    documentClient,
    tableName,
    async stop() {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
      client.destroy();
    },
  };
}

/** The product's store over a table of its own on the shared DynamoDB Local, with the given clock. */
export async function startTestStore(clock: Clock) {
  const dynamo = await startDynamoDbLocal();
  const store = makeStore({
    client: dynamo.documentClient,
    tableName: dynamo.tableName,
    clock,
    cursors: makeCursorCodec('a-test-secret-that-is-long-enough-0123456789'),
  });
  return { dynamo, store };
}
