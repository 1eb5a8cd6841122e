import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../layers/errors/app-error';
import { type Clock, ulidIds } from '../../../layers/ids/ids';
import { counterAttribute, counterKeys } from '../../../layers/model/counters';
import { type OperationItem, operationKeys } from '../../../layers/model/operations';
import { limitAttribute } from '../../../layers/model/plans';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import type { Store, StoredItem } from '../../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../../test/support/dynamodb';
import { machineArn, unreachableStepFunctions } from '../../../test/support/step-functions';
import { readUsage } from '../../plans/quota';
import { makeCreateServer, transitionServer } from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
const unreachable = unreachableStepFunctions();
const stateMachineArn = machineArn('vip-test-provision-server');

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
});

afterAll(async () => {
  unreachable.destroy();
  await dynamo?.stop();
});

/** A tenant's counters item, as signing up makes it, with a server limit when given. */
async function tenantWith(servers?: number) {
  const tenantId = ids.next('ten');
  await store.put({
    ...counterKeys.item(tenantId),
    entity: 'counters',
    owners: 1,
    ...(servers === undefined ? {} : { [limitAttribute('servers')]: servers }),
  });
  return tenantId;
}

const body = {
  name: 'web-1',
  provider: 'local' as const,
  stack: {},
  tags: [],
  region: 'local-1',
  size: 'small',
};
const counters = async (tenantId: string): Promise<Record<string, unknown>> =>
  (await store.get<StoredItem>(counterKeys.item(tenantId), true)) ?? {};
const serversOf = async (tenantId: string) =>
  (
    await store.query<ServerItem>({
      pk: counterKeys.item(tenantId).pk,
      skPrefix: serverKeys.prefix,
      limit: 10,
      tenantId,
      scope: 'test',
      consistent: true,
    })
  ).items;

describe('Service: creating a server', () => {
  it('refuses a create over quota naming the quota, and writes nothing', async () => {
    const tenantId = await tenantWith(0);
    const create = makeCreateServer({ store, clock, ids, sfn: unreachable, stateMachineArn });
    const refused = await create(tenantId, body as never, 'corr-1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ status: 409, extensions: { quota: 'servers', limit: 0, used: 0 } });
    expect(await serversOf(tenantId)).toEqual([]);
    expect((await readUsage(store, tenantId))?.quotas.servers).toEqual({ limit: 0, used: 0 });
  });

  it('marks the server and its operation failed and gives the unit back when the workflow cannot start', async () => {
    const tenantId = await tenantWith(3);
    const create = makeCreateServer({ store, clock, ids, sfn: unreachable, stateMachineArn });
    // the start's own error goes on, not one of the bookkeeping after it
    const failed = await create(tenantId, body as never, 'corr-2').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).name).not.toBe('ValidationException');
    expect(String((failed as Error & { code?: string }).code ?? (failed as Error).message)).toMatch(
      /ECONNREFUSED/,
    );
    const [server] = await serversOf(tenantId);
    expect(server).toMatchObject({ name: 'web-1', status: 'failed' });
    const operation = await store.get<OperationItem>(
      operationKeys.item(tenantId, server?.lastOperationId ?? ''),
      true,
    );
    expect(operation).toMatchObject({
      kind: 'provision-server',
      targetId: server?.id,
      status: 'failed',
      error: { code: 'workflow-not-started' },
    });
    expect(operation?.steps.checkQuota).toMatchObject({ status: 'succeeded' });
    const after = await counters(tenantId);
    expect(after[counterAttribute('failed')]).toBe(1);
    expect(after[counterAttribute('provisioning')] ?? 0).toBe(0);
    expect((await readUsage(store, tenantId))?.quotas.servers).toEqual({ limit: 3, used: 0 });
  });

  it('moves a server between statuses with its counters, once', async () => {
    const tenantId = await tenantWith();
    const serverId = ids.next('srv');
    await store.put({
      ...serverKeys.item(tenantId, serverId),
      entity: 'server',
      id: serverId,
      status: 'provisioning',
    });
    await store.update(counterKeys.item(tenantId), { [counterAttribute('provisioning')]: 1 });
    const move = { tenantId, serverId, from: 'provisioning', to: 'active' } as const;
    expect(await transitionServer(store, clock, { ...move, changes: { ipv4: '203.0.113.10' } })).toBe(true);
    expect(await transitionServer(store, clock, move)).toBe(false);
    expect(await store.get(serverKeys.item(tenantId, serverId), true)).toMatchObject({
      status: 'active',
      ipv4: '203.0.113.10',
      updatedAt: clock.now().toISOString(),
    });
    const after = await counters(tenantId);
    expect([after[counterAttribute('provisioning')], after[counterAttribute('active')]]).toEqual([0, 1]);
  });
});
