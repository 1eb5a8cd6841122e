import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { createTableInput, tableDefinition } from '../../layers/store/table-definition';
import { uniqueName } from '../../test/support/dynamodb';
import { dynamoDbClient, ensureTable } from './engines';

describe('Local engines: the table', () => {
  it('gives a table kept from an earlier version the indexes it lacks, and keeps its items', async () => {
    const client = dynamoDbClient(inject('engines').dynamodb);
    const tableName = uniqueName('vip-old');
    const current = createTableInput(tableName);
    // the table as it was made before its second index existed
    const [first] = tableDefinition.indexes;
    await client.send(
      new CreateTableCommand({
        ...current,
        AttributeDefinitions: current.AttributeDefinitions?.filter((a) =>
          ['pk', 'sk', first.partitionKey, first.sortKey].includes(String(a.AttributeName)),
        ),
        GlobalSecondaryIndexes: current.GlobalSecondaryIndexes?.slice(0, 1),
      }),
    );
    const item = {
      pk: { S: 'T#ten_1' },
      sk: { S: 'SERVER#srv_1' },
      gsi2pk: { S: 'F#1' },
      gsi2sk: { S: '1' },
    };
    await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    try {
      await ensureTable(client, tableName);
      await ensureTable(client, tableName); // and again, with nothing left to add
      const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const indexes = (table?.GlobalSecondaryIndexes ?? []).map((index) => ({
        name: index.IndexName,
        status: index.IndexStatus,
        projection: index.Projection?.ProjectionType,
        included: [...(index.Projection?.NonKeyAttributes ?? [])].sort(),
      }));
      expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
        tableDefinition.indexes.map((index) => ({
          name: index.indexName,
          status: 'ACTIVE',
          projection: index.projection.type,
          included: index.projection.type === 'INCLUDE' ? [...index.projection.attributes].sort() : [],
        })),
      );
      const { Item: kept } = await client.send(
        new GetItemCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }),
      );
      expect(kept).toEqual(item);
    } finally {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
    }
  });
});
