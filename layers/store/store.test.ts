import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOperation, recordStarted } from '../../functions/operations/service';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { AppError } from '../errors/app-error';
import type { Clock } from '../ids/ids';
import { recordSteps } from '../model/operations';
import { ConditionFailedError, refusedBy, type Store, TransactionFailedError } from './store';
import { named, putNew } from './writes';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
const now = new Date('2026-11-27T10:00:00Z');
const clock: Clock = { now: () => now };

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('Module: store (DynamoDB Local)', () => {
  it('creates an item once and refuses a second create with the same key', async () => {
    await store.create({ pk: 'T#a', sk: 'ITEM#1', name: 'one' });
    await expect(store.create({ pk: 'T#a', sk: 'ITEM#1', name: 'again' })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    expect(await store.get({ pk: 'T#a', sk: 'ITEM#1' })).toMatchObject({ name: 'one', version: 1 });
  });

  it('updates with optimistic locking: a stale version fails and changes nothing', async () => {
    await store.create({ pk: 'T#a', sk: 'ITEM#2', name: 'v1' });
    const updated = await store.update({ pk: 'T#a', sk: 'ITEM#2' }, { name: 'v2' }, { expectedVersion: 1 });
    expect(updated).toMatchObject({ name: 'v2', version: 2 });
    await expect(
      store.update({ pk: 'T#a', sk: 'ITEM#2' }, { name: 'lost' }, { expectedVersion: 1 }),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await store.get({ pk: 'T#a', sk: 'ITEM#2' })).toMatchObject({ name: 'v2', version: 2 });
  });

  it('refuses to update an item that does not exist', async () => {
    await expect(store.update({ pk: 'T#a', sk: 'MISSING' }, { name: 'x' })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    expect(await store.get({ pk: 'T#a', sk: 'MISSING' })).toBeUndefined();
  });

  it('removes attributes set to undefined', async () => {
    await store.create({ pk: 'T#a', sk: 'ITEM#3', name: 'x', note: 'drop me' });
    const updated = await store.update({ pk: 'T#a', sk: 'ITEM#3' }, { note: undefined });
    expect(updated).not.toHaveProperty('note');
  });

  it('ignores expired items on get and query, and lets a create replace one', async () => {
    const at = Math.floor(now.getTime() / 1000);
    await store.create({ pk: 'T#ttl', sk: 'A', expiresAt: at + 60 });
    await store.create({ pk: 'T#ttl', sk: 'B', expiresAt: at - 1 });
    await store.create({ pk: 'T#ttl', sk: 'C' });
    expect(await store.get({ pk: 'T#ttl', sk: 'B' })).toBeUndefined();
    const page = await store.query({ pk: 'T#ttl', limit: 10, tenantId: 'ttl', scope: 'items' });
    expect(page.items.map((i) => i.sk)).toEqual(['A', 'C']);
    await store.create({ pk: 'T#ttl', sk: 'B', fresh: true });
    expect(await store.get({ pk: 'T#ttl', sk: 'B' })).toMatchObject({ fresh: true });
  });

  it('pages with signed cursors bound to the tenant and the list', async () => {
    for (let i = 0; i < 5; i += 1) await store.create({ pk: 'T#pages', sk: `SERVER#${i}` });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.query({
        pk: 'T#pages',
        skPrefix: 'SERVER#',
        limit: 2,
        cursor,
        tenantId: 'pages',
        scope: 'servers',
      });
      seen.push(...page.items.map((i) => i.sk));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(['SERVER#0', 'SERVER#1', 'SERVER#2', 'SERVER#3', 'SERVER#4']);

    const first = await store.query({
      pk: 'T#pages',
      skPrefix: 'SERVER#',
      limit: 2,
      tenantId: 'pages',
      scope: 'servers',
    });
    const valid = first.nextCursor ?? '';
    const replay = (tenantId: string, scope: string, c = valid) =>
      store.query({ pk: 'T#pages', limit: 2, cursor: c, tenantId, scope });
    await expect(replay('someone-else', 'servers')).rejects.toMatchObject({
      status: 400,
      code: 'invalid-cursor',
    });
    await expect(replay('pages', 'operations')).rejects.toBeInstanceOf(AppError);
    const [body] = valid.split('.');
    const forgedBody = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body ?? '', 'base64url').toString()), t: 'someone-else' }),
    ).toString('base64url');
    await expect(
      replay('someone-else', 'servers', `${forgedBody}.${valid.split('.')[1]}`),
    ).rejects.toMatchObject({ status: 400 });
    await expect(replay('pages', 'servers', 'garbage')).rejects.toMatchObject({ status: 400 });
  });

  it('writes a transaction all or nothing and says which named item refused', async () => {
    await store.create({ pk: 'T#tx', sk: 'TAKEN' });
    await store.create({ pk: 'T#tx', sk: 'HELD' });
    const attempt = store.transact([
      named('fresh', putNew({ pk: 'T#tx', sk: 'NEW' })),
      putNew({ pk: 'T#tx', sk: 'HELD' }),
      named('claim', putNew({ pk: 'T#tx', sk: 'TAKEN' })),
    ]);
    const refused = await attempt.catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransactionFailedError);
    expect((refused as TransactionFailedError).refusedNames).toEqual(['claim']);
    expect(refusedBy(refused, 'claim')).toBe(true);
    expect(refusedBy(refused, 'fresh')).toBe(false);
    expect(refusedBy(new Error('other'), 'claim')).toBe(false);
    expect(await store.get({ pk: 'T#tx', sk: 'NEW' })).toBeUndefined();
  });

  it('reads many items at once', async () => {
    const items = await store.batchGet([
      { pk: 'T#a', sk: 'ITEM#1' },
      { pk: 'T#a', sk: 'ITEM#2' },
      { pk: 'T#a', sk: 'NOPE' },
    ]);
    expect(items.map((i) => i.sk).sort()).toEqual(['ITEM#1', 'ITEM#2']);
  });

  it('puts many items each on its own version: new ones only while absent, read ones only while unchanged', async () => {
    const read = await store.create({ pk: 'T#many', sk: 'READ', count: 1, gone: 'soon' });
    const stale = await store.create({ pk: 'T#many', sk: 'STALE', count: 1 });
    await store.update({ pk: stale.pk, sk: stale.sk }, { count: 2 });
    await store.create({ pk: 'T#many', sk: 'TAKEN', count: 1 });
    const fresh = Array.from({ length: 60 }, (_, i) => ({
      item: { pk: 'T#many', sk: `NEW#${String(i).padStart(2, '0')}`, count: i, version: 1 },
    }));
    const outcomes = await store.putAllIfVersion(
      [
        { item: { pk: 'T#many', sk: 'READ', count: 5, minute: 'reserved word', version: 2 }, read },
        { item: { pk: 'T#many', sk: 'STALE', count: 9, version: 2 }, read: stale },
        { item: { pk: 'T#many', sk: 'TAKEN', count: 9, version: 1 } },
        ...fresh,
      ],
      3,
    );
    expect(outcomes.slice(0, 3)).toEqual(['written', 'conflict', 'conflict']);
    expect(outcomes.slice(3)).toEqual(fresh.map(() => 'written'));
    // written whole: set, and what the item no longer has removed
    expect(await store.get({ pk: 'T#many', sk: 'READ' })).toEqual({
      pk: 'T#many',
      sk: 'READ',
      count: 5,
      minute: 'reserved word',
      version: 2,
    });
    expect(await store.get({ pk: 'T#many', sk: 'STALE' })).toMatchObject({ count: 2, version: 2 });
    expect(await store.get({ pk: 'T#many', sk: 'TAKEN' })).toMatchObject({ count: 1, version: 1 });
    const page = await store.query({ pk: 'T#many', skPrefix: 'NEW#', limit: 100, tenantId: 't', scope: 's' });
    expect(page.items.map((i) => i.count)).toEqual(fresh.map((f) => f.item.count));
  });

  it('fails a write DynamoDB refuses for another reason than its condition, and only that one', async () => {
    const outcomes = await store.putAllIfVersion([
      { item: { pk: 'T#many', sk: 'TOO-BIG', body: 'x'.repeat(410 * 1024), version: 1 } },
      { item: { pk: 'T#many', sk: 'FINE', version: 1 } },
    ]);
    expect(outcomes).toEqual(['failed', 'written']);
    expect(await store.get({ pk: 'T#many', sk: 'TOO-BIG' })).toBeUndefined();
  });

  it('deletes conditionally when asked to', async () => {
    await store.create({ pk: 'T#del', sk: 'ONCE' });
    await store.remove({ pk: 'T#del', sk: 'ONCE' }, { mustExist: true });
    await expect(store.remove({ pk: 'T#del', sk: 'ONCE' }, { mustExist: true })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
  });
});

describe('Module: operation records (DynamoDB Local)', () => {
  it('never changes an ended operation: the first ending stands, and a late task cannot revive it', async () => {
    const ref = { tenantId: 'ten_a', operationId: 'op_1' };
    await store.create(
      newOperation({
        ...ref,
        kind: 'run-recipe',
        targetId: 'srv_1',
        steps: ['run'],
        correlationId: 'req-1',
        now: now.toISOString(),
      }),
    );
    const at = now.toISOString();
    expect(await recordStarted(store, ref, at, 'run')).toBe(true);
    // a cancel ends it
    expect(
      await recordSteps(store, ref, at, { run: { status: 'failed', endedAt: at } }, { status: 'cancelled' }),
    ).toBe(true);
    // the command's own ending, and a start that was still in flight, come too late
    expect(
      await recordSteps(
        store,
        ref,
        at,
        { run: { status: 'succeeded', endedAt: at } },
        { status: 'succeeded' },
      ),
    ).toBe(false);
    expect(await recordStarted(store, ref, at, 'run')).toBe(false);
    expect(await store.get({ pk: 'T#ten_a', sk: 'OP#op_1' })).toMatchObject({
      status: 'cancelled',
      steps: { run: { status: 'failed' } },
    });
    // an operation that does not exist is not written either
    expect(await recordStarted(store, { tenantId: 'ten_a', operationId: 'op_2' }, at, 'run')).toBe(false);
    expect(await store.get({ pk: 'T#ten_a', sk: 'OP#op_2' })).toBeUndefined();
  });
});
