import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, ulidIds } from '../../../layers/ids/ids';
import { type OperationItem, operationKeys } from '../../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import type { Store } from '../../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../../test/support/dynamodb';
import { refusal } from '../../../test/support/refusal';
import {
  machineArn,
  startStepFunctions,
  unreachableStepFunctions,
  waitingMachine,
} from '../../../test/support/step-functions';
import type { ServerOperationDeps } from '../server-operations';
import { makeRebootServer, type RebootInput } from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
let stepFunctions: Awaited<ReturnType<typeof startStepFunctions>>;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
const stateMachineArn = machineArn('vip-test-reboot-server');
let deps: ServerOperationDeps;
const tenantId = ids.next('ten');

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  stepFunctions = await startStepFunctions({ [stateMachineArn]: waitingMachine });
  deps = { store, clock, ids, sfn: stepFunctions.client, stateMachineArn };
});

afterAll(async () => {
  await stepFunctions?.stop();
  await dynamo?.stop();
});

/** A server as provisioning leaves it, with what a test changes and without what it leaves out. */
async function server(changes: Partial<ServerItem> = {}, without: (keyof ServerItem)[] = []) {
  const id = ids.next('srv');
  const item = {
    ...serverKeys.item(tenantId, id),
    entity: 'server',
    id,
    tenantId,
    name: 'web',
    provider: 'hetzner',
    status: 'active',
    instanceId: 'mi-0123456789abcdef0',
    hostId: '4711',
    bootId: 'boot-1',
    ...changes,
  } as ServerItem;
  for (const field of without) delete item[field];
  await store.put(item);
  return id;
}

const serverItem = async (id: string) => store.get<ServerItem>(serverKeys.item(tenantId, id), true);

describe('Service: rebooting a server', () => {
  it('starts the workflow with the instance and both commands, and holds the server for it alone', async () => {
    const id = await server();
    const operation = await makeRebootServer(deps)(tenantId, id, 'corr-1', 'hard');
    expect(operation).toMatchObject({
      kind: 'reboot-server',
      targetId: id,
      stepOrder: ['reboot', 'healthCheck'],
    });
    expect(await serverItem(id)).toMatchObject({
      rebootOperationId: operation.id,
      lastOperationId: operation.id,
    });
    const [execution] = stepFunctions.executions().filter((e) => e.name === operation.id);
    expect(execution?.status).toBe('RUNNING');
    const input = JSON.parse(execution?.input ?? '{}') as RebootInput;
    expect(input).toMatchObject({
      tenantId,
      serverId: id,
      operationId: operation.id,
      instanceId: 'mi-0123456789abcdef0',
      mode: 'hard',
      parameters: { action: ['reboot'], requestId: [operation.id] },
      // after a reset, the health check waits for another boot than the last one seen
      healthParameters: { action: ['health-check'], previousBootId: ['boot-1'] },
    });
    // one reboot at a time
    expect((await refusal(makeRebootServer(deps)(tenantId, id, 'corr-2'))).status).toBe(409);
  });

  it('reboots only an active server that runs nothing alone, and resets only one a provider has', async () => {
    expect(
      (await refusal(makeRebootServer(deps)(tenantId, 'srv_01jnosuchserver000000000000', 'c'))).status,
    ).toBe(404);
    for (const changes of [
      { status: 'provisioning' },
      { rebootOperationId: 'op_01jreboot000000000000000000' },
      { stackOperationId: 'op_01jstack0000000000000000000' },
    ] as Partial<ServerItem>[]) {
      expect((await refusal(makeRebootServer(deps)(tenantId, await server(changes), 'c'))).status).toBe(409);
    }
    const custom = await server({ provider: 'custom' }, ['hostId']);
    expect(await refusal(makeRebootServer(deps)(tenantId, custom, 'c', 'hard'))).toMatchObject({
      status: 400,
      path: 'body.mode',
    });
    const graceful = await makeRebootServer(deps)(tenantId, custom, 'c', 'graceful');
    const [execution] = stepFunctions.executions().filter((e) => e.name === graceful.id);
    expect(JSON.parse(execution?.input ?? '{}').healthParameters).not.toHaveProperty('previousBootId');
  });

  it('lets the server go and fails the operation when the workflow cannot start', async () => {
    const id = await server();
    const sfn = unreachableStepFunctions();
    try {
      await expect(makeRebootServer({ ...deps, sfn })(tenantId, id, 'corr-3')).rejects.toThrow(
        /ECONNREFUSED/,
      );
    } finally {
      sfn.destroy();
    }
    const after = await serverItem(id);
    expect(after?.rebootOperationId).toBeUndefined();
    const operation = await store.get<OperationItem>(
      operationKeys.item(tenantId, after?.lastOperationId ?? ''),
      true,
    );
    expect(operation).toMatchObject({ status: 'failed', error: { code: 'workflow-not-started' } });
    // and the next reboot may start
    expect((await makeRebootServer(deps)(tenantId, id, 'corr-4')).kind).toBe('reboot-server');
  });
});
