import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../ids/ids';
import { makeBatchWrites } from './batch-writes';
import type { CursorCodec } from './cursor';
import { ConditionFailedError, TransactionFailedError } from './errors';
import type { ItemKey, StoredItem, TransactItem } from './items';
import { type IndexName, tableDefinition } from './table-definition';
import { type Conditions, conditionOf, Placeholders } from './writes';

export type { BatchOutcome, Statement } from './batch-writes';
export { partiqlName } from './batch-writes';
export { ConditionFailedError, refusedBy, TransactionFailedError } from './errors';
export type { ItemKey, StoredItem, TransactItem } from './items';

export interface QueryOptions {
  pk: string;
  skPrefix?: string;
  skBetween?: [string, string];
  index?: IndexName;
  limit: number;
  cursor?: string | undefined;
  /** the tenant and list the cursor is bound to */
  tenantId: string;
  scope: string;
  ascending?: boolean;
  /** a strongly consistent read (the table only, not an index) */
  consistent?: boolean;
  /**
   * Narrows the page after the key condition (pages may then hold fewer than `limit` items):
   * attributes that must equal a value, and list attributes that must contain one; an
   * undefined value asks nothing.
   */
  filter?: {
    equals?: Record<string, unknown>;
    contains?: Record<string, unknown>;
    startsWith?: Record<string, string | undefined>;
  };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface UpdateOptions {
  /** optimistic locking: the write holds only if the stored version is this one */
  expectedVersion?: number;
  /** what else must hold of the item, ANDed with existence and version */
  where?: Conditions;
}

export interface StoreDeps {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  cursors: CursorCodec;
}

/**
 * One UpdateExpression for a set of changes: SET for defined values, REMOVE for undefined
 * ones, and the version bumped, with placeholders for every name and value.
 */
export function versionedUpdate(changes: Record<string, unknown>) {
  const names: Record<string, string> = { '#version': 'version' };
  const values: Record<string, unknown> = { ':one': 1, ':zero': 0 };
  const sets = ['#version = if_not_exists(#version, :zero) + :one'];
  const removes: string[] = [];
  Object.entries(changes).forEach(([attribute, value], i) => {
    names[`#a${i}`] = attribute;
    if (value === undefined) {
      removes.push(`#a${i}`);
    } else {
      values[`:v${i}`] = value;
      sets.push(`#a${i} = :v${i}`);
    }
  });
  const expression = `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`;
  return { expression, names, values };
}

const isExpired = (item: StoredItem | undefined, nowSeconds: number): boolean =>
  typeof item?.expiresAt === 'number' && item.expiresAt <= nowSeconds;

/**
 * The single-table store. Reads ignore items whose TTL has passed (DynamoDB deletes them
 * only eventually, and DynamoDB Local never does); writes are conditional.
 */
export function makeStore({ client, tableName, clock, cursors }: StoreDeps) {
  const now = () => Math.floor(clock.now().getTime() / 1000);

  async function get<T extends StoredItem>(key: ItemKey, consistent = false): Promise<T | undefined> {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: key, ConsistentRead: consistent }),
    );
    return isExpired(Item as T | undefined, now()) ? undefined : (Item as T | undefined);
  }

  async function batchGet<T extends StoredItem>(keys: ItemKey[], consistent = false): Promise<T[]> {
    if (keys.length === 0) return [];
    const found: T[] = [];
    let pending: Record<string, unknown>[] | undefined = keys.map((k) => ({ ...k }));
    while (pending && pending.length > 0) {
      const result = await client.send(
        new BatchGetCommand({
          RequestItems: { [tableName]: { Keys: pending, ...(consistent ? { ConsistentRead: true } : {}) } },
        }),
      );
      found.push(...((result.Responses?.[tableName] ?? []) as T[]));
      pending = result.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined;
    }
    return found.filter((item) => !isExpired(item, now()));
  }

  /** Writes a new item; fails with ConditionFailedError if one with the same key exists (and has not expired). */
  async function create<T extends StoredItem>(item: T): Promise<T> {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { version: 1, ...item },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': now() },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConditionFailedError(error);
      throw error;
    }
    return { version: 1, ...item };
  }

  /**
   * Sets attributes of an existing item and bumps its version. Fails with
   * ConditionFailedError if the item is missing or its version is not `expectedVersion`.
   */
  async function update<T extends StoredItem>(
    key: ItemKey,
    changes: Record<string, unknown>,
    options: UpdateOptions = {},
  ): Promise<T> {
    const update = versionedUpdate(changes);
    const names: Record<string, string> = { '#pk': 'pk', ...update.names };
    const values: Record<string, unknown> = { ...update.values };
    const conditions = ['attribute_exists(#pk)'];
    if (options.expectedVersion !== undefined) {
      conditions.push('#version = :expected');
      values[':expected'] = options.expectedVersion;
    }
    if (options.where) {
      const where = new Placeholders('w');
      const condition = conditionOf(options.where, where);
      if (condition) conditions.push(condition);
      Object.assign(names, where.names);
      Object.assign(values, where.values);
    }
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: update.expression,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as T;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConditionFailedError(error);
      throw error;
    }
  }

  /** Writes an item whole, whatever was there (a record that only its owner ever writes). */
  async function put<T extends StoredItem>(item: T): Promise<T> {
    await client.send(new PutCommand({ TableName: tableName, Item: item }));
    return item;
  }

  /**
   * Writes an item whole only while it is at `expectedVersion` (absent: only while there is
   * none), for read-merge-write with optimistic locking; ConditionFailedError otherwise.
   */
  async function putIfVersion<T extends StoredItem>(
    item: T,
    expectedVersion: number | undefined,
  ): Promise<T> {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: item,
          ConditionExpression:
            expectedVersion === undefined ? 'attribute_not_exists(pk)' : '#version = :version',
          ...(expectedVersion === undefined
            ? {}
            : {
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':version': expectedVersion },
              }),
        }),
      );
      return item;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConditionFailedError(error);
      throw error;
    }
  }

  const { executeAll, putAllIfVersion } = makeBatchWrites(client, tableName);

  /**
   * Adds to number attributes atomically (creating the item if needed) and sets the others
   * given only where absent; answers the new totals.
   */
  async function increment(
    key: ItemKey,
    deltas: Record<string, number>,
    setIfAbsent: Record<string, unknown> = {},
  ): Promise<Record<string, number>> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const adds: string[] = [];
    const sets: string[] = [];
    Object.entries(deltas).forEach(([attribute, delta], i) => {
      names[`#d${i}`] = attribute;
      values[`:d${i}`] = delta;
      adds.push(`#d${i} :d${i}`);
    });
    Object.entries(setIfAbsent).forEach(([attribute, value], i) => {
      names[`#s${i}`] = attribute;
      values[`:s${i}`] = value;
      sets.push(`#s${i} = if_not_exists(#s${i}, :s${i})`);
    });
    const { Attributes } = await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: `ADD ${adds.join(', ')}${sets.length > 0 ? ` SET ${sets.join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Object.fromEntries(Object.keys(deltas).map((a) => [a, Number(Attributes?.[a] ?? deltas[a])]));
  }

  /** Whether the table answers: one GetItem of a key that never exists. */
  async function probe(): Promise<void> {
    await client.send(new GetCommand({ TableName: tableName, Key: { pk: 'HEALTH', sk: 'HEALTH' } }));
  }

  /** Deletes an item; with `mustExist`, fails with ConditionFailedError when it is already gone. */
  async function remove(key: ItemKey, options: { mustExist?: boolean } = {}): Promise<void> {
    try {
      await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: key,
          ...(options.mustExist ? { ConditionExpression: 'attribute_exists(pk)' } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ConditionFailedError(error);
      throw error;
    }
  }

  /** One page of a partition (or an index partition), continuing from a signed cursor. */
  async function query<T extends StoredItem>(options: QueryOptions): Promise<Page<T>> {
    const index = tableDefinition.indexes.find((i) => i.indexName === options.index);
    const pkName = index?.partitionKey ?? tableDefinition.partitionKey;
    const skName = index?.sortKey ?? tableDefinition.sortKey;
    const names: Record<string, string> = { '#pk': pkName };
    const values: Record<string, unknown> = { ':pk': options.pk, ':now': now() };
    let condition = '#pk = :pk';
    if (options.skPrefix !== undefined) {
      names['#sk'] = skName;
      values[':prefix'] = options.skPrefix;
      condition += ' AND begins_with(#sk, :prefix)';
    } else if (options.skBetween) {
      names['#sk'] = skName;
      values[':from'] = options.skBetween[0];
      values[':to'] = options.skBetween[1];
      condition += ' AND #sk BETWEEN :from AND :to';
    }
    const startKey = options.cursor
      ? cursors.decode(options.cursor, options.tenantId, options.scope)
      : undefined;
    const filters = new Placeholders('f');
    const present = <T>(record: Record<string, T> | undefined) =>
      Object.fromEntries(Object.entries(record ?? {}).filter(([, v]) => v !== undefined));
    const filter = [
      conditionOf({ equals: present(options.filter?.equals) }, filters),
      ...Object.entries(present(options.filter?.contains)).map(
        ([a, v]) => `contains(${filters.name(a)}, ${filters.value(v)})`,
      ),
      ...Object.entries(present(options.filter?.startsWith)).map(
        ([a, v]) => `begins_with(${filters.name(a)}, ${filters.value(v)})`,
      ),
    ]
      .filter(Boolean)
      .join(' AND ');
    const result = await client.send(
      new QueryCommand({
        TableName: tableName,
        ...(index ? { IndexName: index.indexName } : {}),
        KeyConditionExpression: condition,
        FilterExpression: filter
          ? `(attribute_not_exists(expiresAt) OR expiresAt > :now) AND ${filter}`
          : 'attribute_not_exists(expiresAt) OR expiresAt > :now',
        ExpressionAttributeNames: { ...names, ...filters.names },
        ExpressionAttributeValues: { ...values, ...filters.values },
        Limit: options.limit,
        ScanIndexForward: options.ascending ?? true,
        ...(options.consistent ? { ConsistentRead: true } : {}),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    const last = result.LastEvaluatedKey;
    return {
      items: (result.Items ?? []) as T[],
      nextCursor: last ? cursors.encode(options.tenantId, options.scope, last) : null,
    };
  }

  /**
   * Every item of a query, a page of 100 at a time, for work that must reach them all (a
   * changed plan's customers, a deleted tenant's items); each page is handed on as it comes.
   */
  async function* pages<T extends StoredItem>(
    options: Omit<QueryOptions, 'limit' | 'cursor' | 'tenantId' | 'scope'>,
  ): AsyncGenerator<T[]> {
    let cursor: string | undefined;
    do {
      const page: Page<T> = await query<T>({ ...options, limit: 100, cursor, tenantId: '*', scope: 'all' });
      yield page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** Writes all or nothing; a failed condition surfaces as TransactionFailedError with its reasons. */
  async function transact(items: TransactItem[]): Promise<void> {
    const withTable = items.map(({ name: _name, ...entry }) => {
      const [kind, body] = Object.entries(entry)[0] as [string, Record<string, unknown>];
      return { [kind]: { TableName: tableName, ...body } };
    });
    try {
      await client.send(
        new TransactWriteCommand({ TransactItems: withTable as TransactWriteCommandInput['TransactItems'] }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        throw new TransactionFailedError(
          (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None'),
          items.map((item) => item.name),
          error,
        );
      }
      throw error;
    }
  }

  return {
    tableName,
    client,
    get,
    batchGet,
    create,
    put,
    putIfVersion,
    putAllIfVersion,
    executeAll,
    update,
    increment,
    remove,
    query,
    pages,
    transact,
    probe,
    nowSeconds: now,
  };
}

export type Store = ReturnType<typeof makeStore>;
