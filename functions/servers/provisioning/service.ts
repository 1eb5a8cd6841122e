import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type * as z from 'zod';
import type { Clock, IdGenerator } from '../../../layers/ids/ids';
import { countersChange } from '../../../layers/model/counters';
import type { OperationItem } from '../../../layers/model/operations';
import { type ServerItem, type ServerStatus, serverKeys } from '../../../layers/model/servers';
import { logger } from '../../../layers/observability/logger';
import { refusedBy, type Store } from '../../../layers/store/store';
import { named, putNew, updateItem } from '../../../layers/store/writes';
import { newOperation, recordNotStarted } from '../../operations/service';
import { quotaExceeded } from '../../plans/quota';
import type { createServerBody } from '../spec';

/**
 * The steps of a provisioning, in order, as operations show them. The quota is checked when
 * the server is created (the unit is taken in the same transaction, so a create over quota
 * answers 4xx at once and concurrent creates cannot overshoot): that step has succeeded
 * before the workflow starts, and a failed provisioning gives the unit back.
 */
export const provisionSteps = [
  'checkQuota',
  'createHost',
  'waitForAgent',
  'bootstrap',
  'healthCheck',
  'activate',
] as const;

/** What the provision-server state machine is started with: ids only; it reads the server itself. */
export interface ProvisionInput {
  tenantId: string;
  serverId: string;
  operationId: string;
  correlationId: string;
}

export interface ServerDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  sfn: SFNClient;
  stateMachineArn: string;
}

/**
 * Writes the server, its operation and the counter in one transaction, then starts the
 * workflow under the operation's id as execution name (a retried start is a no-op). If the
 * start fails, both records are marked failed before the error goes on: nothing is left
 * claiming to be in progress.
 */
export function makeCreateServer({ store, clock, ids, sfn, stateMachineArn }: ServerDeps) {
  return async (
    tenantId: string,
    input: z.output<typeof createServerBody> & { region: string; size: string },
    correlationId: string,
  ) => {
    const now = clock.now().toISOString();
    const serverId = ids.next('srv');
    const operationId = ids.next('op');
    const server: ServerItem = {
      ...serverKeys.item(tenantId, serverId),
      entity: 'server',
      id: serverId,
      tenantId,
      ...input,
      status: 'provisioning',
      lastOperationId: operationId,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const operation = newOperation({
      tenantId,
      operationId,
      kind: 'provision-server',
      targetId: serverId,
      steps: provisionSteps,
      correlationId,
      now,
    });
    operation.steps.checkQuota = {
      status: 'succeeded',
      startedAt: now,
      endedAt: now,
      output: { quota: 'servers', units: 1 },
    };
    try {
      await store.transact([
        putNew(server),
        putNew(operation),
        named('quota', countersChange(tenantId, { servers: { to: 'provisioning' }, takeQuota: 'servers' })),
      ]);
    } catch (error) {
      if (refusedBy(error, 'quota')) throw await quotaExceeded(store, tenantId, 'servers');
      throw error;
    }
    const executionInput: ProvisionInput = { tenantId, serverId, operationId, correlationId };
    try {
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: operationId,
          input: JSON.stringify(executionInput),
        }),
      );
    } catch (cause) {
      logger.error('Could not start provisioning', { error: cause as Error, serverId, operationId });
      await transitionServer(store, clock, { tenantId, serverId, from: 'provisioning', to: 'failed' });
      await recordNotStarted(store, { tenantId, operationId }, clock.now().toISOString(), 'provisioning');
      throw cause;
    }
    return { server, operation: operation as OperationItem };
  };
}

/**
 * Moves a server from one status to another and the tenant's counters with it, atomically.
 * Returns false when the server is not in `from` any more (the move already happened).
 */
export async function transitionServer(
  store: Store,
  clock: Clock,
  move: {
    tenantId: string;
    serverId: string;
    from: ServerStatus;
    to: ServerStatus;
    changes?: Record<string, unknown>;
  },
): Promise<boolean> {
  const changes = { ...(move.changes ?? {}), status: move.to, updatedAt: clock.now().toISOString() };
  try {
    await store.transact([
      named(
        'server',
        updateItem(
          serverKeys.item(move.tenantId, move.serverId),
          { set: changes },
          { equals: { status: move.from } },
        ),
      ),
      // A server that failed to provision gives its unit of quota back.
      countersChange(move.tenantId, {
        servers: { from: move.from, to: move.to },
        ...(move.to === 'failed' ? { giveBackQuota: 'servers' as const } : {}),
      }),
    ]);
    return true;
  } catch (error) {
    if (refusedBy(error, 'server')) return false;
    throw error;
  }
}
