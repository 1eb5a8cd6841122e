import {
  type AttributeValue,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../test/support/dynamodb';
import { itemSize, writeUnitsOf } from './item-size';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
});
afterAll(async () => dynamo?.stop());

/** Items of the shapes the metrics write (numbers of every kind, nested maps, lists, binary), 0.1 to 7 KB. */
function items(): Record<string, unknown>[] {
  const shaped = (i: number) => ({
    pk: `T#ten_${i}#SERVER#srv_${i}#M1`,
    sk: `2026-12-03T10:${String(i % 60).padStart(2, '0')}`,
    entity: 'rollup',
    count: i,
    lastAt: '2026-12-03T10:42:55.000Z',
    sampleIds: Array.from({ length: i % 7 }, (_, j) => `sample-${i}-${j}`),
    stats: Object.fromEntries(
      Array.from({ length: 1 + (i % 23) }, (_, g) => [
        `gauge${g}`,
        {
          count: g + 1,
          sum: 1234.5678 * g,
          min: 0.001 * i,
          max: 99.99,
          last: -42 - g,
          big: 12_345_678_900_000,
        },
      ]),
    ),
    sketch: Buffer.alloc((i * 37) % 700, 3).toString('base64'),
    body: Buffer.alloc((i * 157) % 3000, 1),
    // a number JavaScript writes with an exponent
    tiny: 1e-7 * i,
    ok: i % 2 === 0,
    nothing: null,
    version: i,
  });
  return Array.from({ length: 60 }, (_, i) => shaped(i + 1));
}

describe('Bench: item size as DynamoDB counts it', () => {
  it('gives the write units DynamoDB Local reports for a put of the same item', async () => {
    const sizes: number[] = [];
    for (const item of items()) {
      const raw = marshall(item, { removeUndefinedValues: true });
      const { ConsumedCapacity } = await dynamo.client.send(
        new PutItemCommand({ TableName: dynamo.tableName, Item: raw, ReturnConsumedCapacity: 'TOTAL' }),
      );
      const size = itemSize(raw);
      sizes.push(size);
      expect({ size, units: writeUnitsOf(undefined, raw) }).toEqual({
        size,
        units: ConsumedCapacity?.CapacityUnits,
      });
    }
    // the items span several units, so the sizes are checked at more than one boundary
    expect(new Set(sizes.map((s) => Math.ceil(s / 1024))).size).toBeGreaterThanOrEqual(4);
  });

  it('counts the index entries a write puts, deletes, moves or changes, as DynamoDB Local does', async () => {
    const key = { pk: { S: 'T#ten_1#SERVER#srv_1' }, sk: { S: 'SERVER' } };
    const read = async () =>
      (
        await dynamo.client.send(
          new GetItemCommand({ TableName: dynamo.tableName, Key: key, ConsistentRead: true }),
        )
      ).Item;
    const server = marshall({
      name: 'web-1.example.com',
      status: 'active',
      tags: ['web'],
      hostKey: 'k'.repeat(1500),
      gsi1pk: 'SERVERNAME#web-1',
      gsi1sk: 'srv_1',
    });
    // each write, then what DynamoDB Local charged against what the item before and after says
    const writes: [string, () => Promise<number | undefined>][] = [
      [
        'a new item in gsi1 (all projected)',
        async () =>
          (
            await dynamo.client.send(
              new PutItemCommand({
                TableName: dynamo.tableName,
                Item: { ...key, ...server },
                ReturnConsumedCapacity: 'TOTAL',
              }),
            )
          ).ConsumedCapacity?.CapacityUnits,
      ],
      ...[
        [
          'entering gsi2',
          'SET gsi2pk = :p, gsi2sk = :s, fleet = :f',
          { ':p': 'F#1', ':s': '0100#srv_1', ':f': 'cpu 1' },
        ],
        [
          'moving in gsi2 (its sort key changes)',
          'SET gsi2sk = :s, fleet = :f',
          { ':s': '0200#srv_1', ':f': 'cpu 2' },
        ],
        ['a projected attribute changing in place', 'SET fleet = :f', { ':f': 'cpu 2, memory 40' }],
        ['an attribute gsi2 does not project', 'SET hostKey = :k', { ':k': 'h'.repeat(2500) }],
        ['leaving gsi2', 'REMOVE gsi2pk, gsi2sk', {}],
      ].map(([, expression, values]): [string, () => Promise<number | undefined>] => [
        String(expression),
        async () =>
          (
            await dynamo.client.send(
              new UpdateItemCommand({
                TableName: dynamo.tableName,
                Key: key,
                UpdateExpression: String(expression),
                ...(Object.keys(values as object).length > 0
                  ? { ExpressionAttributeValues: marshall(values) as Record<string, AttributeValue> }
                  : {}),
                ReturnConsumedCapacity: 'TOTAL',
              }),
            )
          ).ConsumedCapacity?.CapacityUnits,
      ]),
    ];
    for (const [what, write] of writes) {
      const before = await read();
      const charged = await write();
      expect({ what, units: writeUnitsOf(before, await read()) }).toEqual({ what, units: charged });
    }
  });
});
