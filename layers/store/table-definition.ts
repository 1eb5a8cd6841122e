import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The single table's schema, read by the CDK data stack and by the local runtime, so the
 * two can never disagree. Every access pattern is a key lookup or a Query on these keys.
 */
export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  indexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: { type: 'ALL' } },
    // a tenant's servers by CPU, with what the fleet view shows of each (layers/model/servers.ts)
    {
      indexName: 'gsi2',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
      // expiresAt too: every query filters out what has expired, and a filter reads only what is projected
      projection: { type: 'INCLUDE', attributes: ['id', 'name', 'status', 'tags', 'fleet', 'expiresAt'] },
    },
  ],
} as const satisfies {
  partitionKey: string;
  sortKey: string;
  ttlAttribute: string;
  indexes: readonly {
    indexName: string;
    partitionKey: string;
    sortKey: string;
    projection: { type: 'ALL' } | { type: 'INCLUDE'; attributes: readonly string[] };
  }[];
};

export type IndexName = (typeof tableDefinition.indexes)[number]['indexName'];

/** The CreateTable request the local runtime sends; on-demand billing, like the deployed table. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const attributes = new Set<string>([tableDefinition.partitionKey, tableDefinition.sortKey]);
  for (const index of tableDefinition.indexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: tableDefinition.indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection:
        index.projection.type === 'ALL'
          ? { ProjectionType: 'ALL' }
          : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.attributes] },
    })),
  };
}
