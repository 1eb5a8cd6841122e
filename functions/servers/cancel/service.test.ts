import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateMachineArn } from '../../../layers/config/resources';
import { type Clock, ulidIds } from '../../../layers/ids/ids';
import { counterAttribute, counterKeys } from '../../../layers/model/counters';
import { type OperationItem, operationKeys } from '../../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import type { Store } from '../../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../../test/support/dynamodb';
import { refusal } from '../../../test/support/refusal';
import { machineArn, startStepFunctions, waitingMachine } from '../../../test/support/step-functions';
import { newOperation } from '../../operations/service';
import { provisionSteps } from '../provisioning/service';
import { type CancelDeps, makeCancelOperation } from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
let stepFunctions: Awaited<ReturnType<typeof startStepFunctions>>;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
const prefix = machineArn('vip-test-');
// a provisioning cancel never reaches a host: no SSM request is made
const ssm = new SSMClient({
  endpoint: 'http://127.0.0.1:9',
  region: 'eu-central-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
});
let deps: CancelDeps;
const owner = { tenantId: '', userId: 'usr_01jcanceller000000000000000', role: 'owner' as const };

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  stepFunctions = await startStepFunctions({
    [stateMachineArn(prefix, 'provision-server')]: waitingMachine,
    [stateMachineArn(prefix, 'decommission-server')]: waitingMachine,
  });
  deps = {
    store,
    clock,
    ids,
    sfn: stepFunctions.client,
    ssm,
    stateMachineArnPrefix: prefix,
    stateMachineArn: stateMachineArn(prefix, 'decommission-server'),
    runCommandDocument: 'vip-test-run-command',
  };
});

afterAll(async () => {
  ssm.destroy();
  await stepFunctions?.stop();
  await dynamo?.stop();
});

/** A provisioning in progress: its server, operation and running execution, counted as provisioning. */
async function provisioning() {
  const tenantId = ids.next('ten');
  const serverId = ids.next('srv');
  const operation = newOperation({
    tenantId,
    operationId: ids.next('op'),
    kind: 'provision-server',
    targetId: serverId,
    steps: provisionSteps,
    correlationId: 'c',
    now: clock.now().toISOString(),
  });
  await store.put(operation);
  await store.put({
    ...serverKeys.item(tenantId, serverId),
    entity: 'server',
    id: serverId,
    tenantId,
    name: 'web',
    provider: 'hetzner',
    status: 'provisioning',
    lastOperationId: operation.id,
    version: 1,
  } as ServerItem);
  await store.put({
    ...counterKeys.item(tenantId),
    entity: 'counters',
    [counterAttribute('provisioning')]: 1,
  });
  await stepFunctions.client.send(
    new StartExecutionCommand({
      stateMachineArn: stateMachineArn(prefix, 'provision-server'),
      name: operation.id,
      input: JSON.stringify({ tenantId, serverId, operationId: operation.id, correlationId: 'c' }),
    }),
  );
  return { tenantId, serverId, operationId: operation.id };
}

const statusOf = (name: string) => stepFunctions.executions().find((e) => e.name === name)?.status;

describe('Service: cancelling an operation', () => {
  it('stops a provisioning, records it cancelled by its user, and decommissions what it made', async () => {
    const { tenantId, serverId, operationId } = await provisioning();
    expect(statusOf(operationId)).toBe('RUNNING');
    const cancelled = await makeCancelOperation(deps)(tenantId, operationId, { ...owner, tenantId }, 'c2');
    expect(statusOf(operationId)).toBe('ABORTED');
    expect(await store.get<OperationItem>(operationKeys.item(tenantId, operationId), true)).toMatchObject({
      status: 'cancelled',
      error: { code: 'cancelled', message: `Cancelled by ${owner.userId}` },
    });
    expect(cancelled.decommissioning).toBe(true);
    if (!cancelled.decommissioning) return;
    expect(cancelled.server).toMatchObject({ id: serverId, status: 'deleting' });
    expect(statusOf(cancelled.operation.id)).toBe('RUNNING');
    expect(await store.get<ServerItem>(serverKeys.item(tenantId, serverId), true)).toMatchObject({
      status: 'deleting',
      deletingFrom: 'provisioning',
      lastOperationId: cancelled.operation.id,
    });
    // and only once
    expect(
      (await refusal(makeCancelOperation(deps)(tenantId, operationId, { ...owner, tenantId }, 'c3'))).status,
    ).toBe(409);
  });

  it('answers 404 to an unknown operation and 409 to one that runs to its end', async () => {
    const { tenantId, serverId } = await provisioning();
    expect(
      (await refusal(makeCancelOperation(deps)(tenantId, ids.next('op'), { ...owner, tenantId }, 'c')))
        .status,
    ).toBe(404);
    const reboot = newOperation({
      tenantId,
      operationId: ids.next('op'),
      kind: 'reboot-server',
      targetId: serverId,
      steps: ['reboot', 'healthCheck'],
      correlationId: 'c',
      now: clock.now().toISOString(),
    });
    await store.put(reboot);
    expect(
      (await refusal(makeCancelOperation(deps)(tenantId, reboot.id, { ...owner, tenantId }, 'c'))).status,
    ).toBe(409);
    expect((await store.get<OperationItem>(operationKeys.item(tenantId, reboot.id), true))?.status).toBe(
      'pending',
    );
  });
});
