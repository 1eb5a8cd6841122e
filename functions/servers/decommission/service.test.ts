import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, ulidIds } from '../../../layers/ids/ids';
import { counterAttribute, counterKeys } from '../../../layers/model/counters';
import { type OperationItem, operationKeys } from '../../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import type { Store, StoredItem } from '../../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../../test/support/dynamodb';
import { refusal } from '../../../test/support/refusal';
import {
  machineArn,
  startStepFunctions,
  unreachableStepFunctions,
  waitingMachine,
} from '../../../test/support/step-functions';
import { type DecommissionDeps, makeDeleteServer } from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
let stepFunctions: Awaited<ReturnType<typeof startStepFunctions>>;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
const stateMachineArn = machineArn('vip-test-decommission-server');
let deps: DecommissionDeps;

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  stepFunctions = await startStepFunctions({ [stateMachineArn]: waitingMachine });
  deps = { store, clock, ids, sfn: stepFunctions.client, stateMachineArn };
});

afterAll(async () => {
  await stepFunctions?.stop();
  await dynamo?.stop();
});

/** A tenant with one server in the given state, counted in its counters as the product counts it. */
async function serverIn(changes: Partial<ServerItem> = {}) {
  const tenantId = ids.next('ten');
  const id = ids.next('srv');
  const item = {
    ...serverKeys.item(tenantId, id),
    entity: 'server',
    id,
    tenantId,
    name: 'web',
    provider: 'hetzner',
    status: 'active',
    lastOperationId: 'op_01jprovision0000000000000000',
    version: 3,
    ...changes,
  } as ServerItem;
  await store.put(item);
  await store.put({ ...counterKeys.item(tenantId), entity: 'counters', [counterAttribute(item.status)]: 1 });
  return { tenantId, id };
}

const counters = async (tenantId: string): Promise<Record<string, unknown>> =>
  (await store.get<StoredItem>(counterKeys.item(tenantId), true)) ?? {};

describe('Service: decommissioning a server', () => {
  it('marks the server deleting with its counters and starts the workflow with ids only', async () => {
    const { tenantId, id } = await serverIn();
    const { operation } = await makeDeleteServer(deps)(tenantId, id, 'corr-1', 3);
    expect(await store.get(serverKeys.item(tenantId, id), true)).toMatchObject({
      status: 'deleting',
      deletingFrom: 'active',
      lastOperationId: operation.id,
    });
    const after = await counters(tenantId);
    expect([after[counterAttribute('active')], after[counterAttribute('deleting')]]).toEqual([0, 1]);
    const execution = stepFunctions.executions().find((e) => e.name === operation.id);
    expect(JSON.parse(execution?.input ?? '{}')).toEqual({
      tenantId,
      serverId: id,
      operationId: operation.id,
      correlationId: 'corr-1',
    });
    // while that runs, a second delete is refused
    expect((await refusal(makeDeleteServer(deps)(tenantId, id, 'corr-2'))).status).toBe(409);
  });

  it('refuses an unknown server, a stale version, a provisioning one (naming the cancel) and one with sites or databases', async () => {
    const { tenantId, id } = await serverIn();
    expect((await refusal(makeDeleteServer(deps)(tenantId, ids.next('srv'), 'c'))).status).toBe(404);
    expect((await refusal(makeDeleteServer(deps)(tenantId, id, 'c', 2))).status).toBe(412);
    const provisioning = await serverIn({ status: 'provisioning' });
    const refused = await refusal(makeDeleteServer(deps)(provisioning.tenantId, provisioning.id, 'c'));
    expect(refused.status).toBe(409);
    expect(refused.detail).toContain(
      `POST /v1/tenants/${provisioning.tenantId}/operations/op_01jprovision0000000000000000/cancel`,
    );
    const withSites = await serverIn({ siteCount: 2 } as Partial<ServerItem>);
    expect((await refusal(makeDeleteServer(deps)(withSites.tenantId, withSites.id, 'c'))).detail).toContain(
      '2 site(s)',
    );
    const withDatabases = await serverIn({ databaseCount: 1 } as Partial<ServerItem>);
    expect(
      (await refusal(makeDeleteServer(deps)(withDatabases.tenantId, withDatabases.id, 'c'))).detail,
    ).toContain('databases');
    // nothing was marked
    expect(
      (await store.get<ServerItem>(serverKeys.item(withSites.tenantId, withSites.id), true))?.status,
    ).toBe('active');
  });

  it('leaves the server deleting with a failed operation when the workflow cannot start, and starts over on the next delete', async () => {
    const { tenantId, id } = await serverIn();
    const sfn = unreachableStepFunctions();
    try {
      await expect(makeDeleteServer({ ...deps, sfn })(tenantId, id, 'c')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      sfn.destroy();
    }
    const stuck = await store.get<ServerItem>(serverKeys.item(tenantId, id), true);
    expect(stuck?.status).toBe('deleting');
    expect(
      await store.get<OperationItem>(operationKeys.item(tenantId, stuck?.lastOperationId ?? ''), true),
    ).toMatchObject({ status: 'failed', error: { code: 'workflow-not-started' } });
    const again = await makeDeleteServer(deps)(tenantId, id, 'c');
    expect(again.operation.id).not.toBe(stuck?.lastOperationId);
    // counted as deleting once, not twice
    expect((await counters(tenantId))[counterAttribute('deleting')]).toBe(1);
    expect((await store.get<ServerItem>(serverKeys.item(tenantId, id), true))?.deletingFrom).toBe('active');
  });
});
