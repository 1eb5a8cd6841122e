import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { errors } from '../../../layers/errors/app-error';
import type { Clock, IdGenerator } from '../../../layers/ids/ids';
import { countersChange } from '../../../layers/model/counters';
import {
  type OperationItem,
  operationKeys,
  recordSteps,
  type StepChanges,
} from '../../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import { logger } from '../../../layers/observability/logger';
import type { Platform } from '../../../layers/runtime/platform';
import { refusedBy, type Store } from '../../../layers/store/store';
import { deleteItem, named, putNew, updateItem } from '../../../layers/store/writes';
import { newOperation, recordNotStarted } from '../../operations/service';
import { providerOf } from '../providers/credentials';
import { deleteServerHosts } from '../providers/provider';
import { forgetAgent } from '../provisioning/agents';
import type { ProvisionInput } from '../provisioning/service';

/** The steps of the decommission-server workflow, in order. */
export const decommissionSteps = ['deleteHost', 'forgetAgent', 'removeServer'] as const;

/** The execution input: ids only, as for provisioning. */
export type DecommissionInput = ProvisionInput;

export interface DecommissionDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  sfn: SFNClient;
  stateMachineArn: string;
}

/**
 * Starts decommissioning a server: it moves to `deleting` together with a new operation and
 * the counters, then the workflow deletes what the server has and finally the server itself.
 * A server still provisioning answers 409; one whose earlier decommissioning failed starts a
 * new run (every step tolerates what is already gone).
 */
export function makeDeleteServer({ store, clock, ids, sfn, stateMachineArn }: DecommissionDeps) {
  return async (
    tenantId: string,
    serverId: string,
    correlationId: string,
    expectedVersion?: number,
    options: { cancelling?: boolean } = {},
  ) => {
    const server = await store.get<ServerItem>(serverKeys.item(tenantId, serverId), true);
    if (!server) throw errors.notFound('server');
    if (expectedVersion !== undefined && expectedVersion !== (server.version ?? 1))
      throw errors.preconditionFailed();
    if (server.status === 'provisioning' && !options.cancelling) {
      const cancel = `/v1/tenants/${tenantId}/operations/${server.lastOperationId}/cancel`;
      throw errors.conflict(
        `The server is still being provisioned. To stop and undo that, POST ${cancel}; otherwise delete it once it has ended.`,
      );
    }
    if (server.status === 'deleting') {
      const last = await store.get<OperationItem>(operationKeys.item(tenantId, server.lastOperationId), true);
      if (last?.status !== 'failed') throw errors.conflict('The server is already being deleted.');
    }
    const now = clock.now().toISOString();
    const operationId = ids.next('op');
    const operation = newOperation({
      tenantId,
      operationId,
      kind: 'decommission-server',
      targetId: serverId,
      steps: decommissionSteps,
      correlationId,
      now,
    });
    const rerun = server.status === 'deleting';
    const marking = {
      status: 'deleting',
      deletingFrom: server.deletingFrom ?? server.status,
      lastOperationId: operationId,
      updatedAt: now,
    };
    try {
      await store.transact([
        named(
          'server',
          updateItem(
            serverKeys.item(tenantId, serverId),
            { set: marking },
            {
              equals: { status: server.status, version: server.version ?? 1 },
              // a server with sites keeps them: they go first (their files, users and domains)
              belowOrAbsent: { siteCount: 1, databaseCount: 1, databaseUserCount: 1 },
            },
          ),
        ),
        putNew(operation),
        ...(rerun ? [] : [countersChange(tenantId, { servers: { from: server.status, to: 'deleting' } })]),
      ]);
    } catch (error) {
      if (refusedBy(error, 'server')) {
        const now = await store.get<ServerItem>(serverKeys.item(tenantId, serverId), true);
        if ((now?.siteCount ?? 0) > 0) {
          throw errors.conflict(
            `The server has ${now?.siteCount} site(s); delete them first (GET /v1/tenants/${tenantId}/servers/${serverId}/sites).`,
          );
        }
        if ((now?.databaseCount ?? 0) > 0 || (now?.databaseUserCount ?? 0) > 0) {
          throw errors.conflict(
            `The server has databases or database users; drop them first (GET /v1/tenants/${tenantId}/servers/${serverId}/databases and .../database-users).`,
          );
        }
        throw errors.conflict('The server changed while it was being deleted; try again.');
      }
      throw error;
    }
    try {
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: operationId,
          input: JSON.stringify({
            tenantId,
            serverId,
            operationId,
            correlationId,
          } satisfies DecommissionInput),
        }),
      );
    } catch (cause) {
      logger.error('Could not start decommissioning', { error: cause as Error, serverId, operationId });
      // The server stays `deleting` with a failed operation: another DELETE starts over.
      await recordNotStarted(store, { tenantId, operationId }, clock.now().toISOString(), 'decommissioning');
      throw cause;
    }
    return { server: { ...server, status: 'deleting' as const, lastOperationId: operationId }, operation };
  };
}

const now = (platform: Platform) => platform.clock.now().toISOString();

/** Runs one step, recording it running and then succeeded with its output. */
async function step(
  platform: Platform,
  input: DecommissionInput,
  name: (typeof decommissionSteps)[number],
  work: () => Promise<Record<string, unknown>>,
  operation: Parameters<typeof recordSteps>[4] = {},
) {
  await recordSteps(
    platform.store,
    input,
    now(platform),
    { [name]: { status: 'running', startedAt: now(platform) } },
    {
      status: 'running',
    },
  );
  const output = await work();
  await recordSteps(
    platform.store,
    input,
    now(platform),
    { [name]: { status: 'succeeded', endedAt: now(platform), output } },
    operation,
  );
  return output;
}

const serverOf = (platform: Platform, input: DecommissionInput) =>
  platform.store.get<ServerItem>(serverKeys.item(input.tenantId, input.serverId), true);

/** The decommission workflow's tasks; each may run twice and finds what is already done. */
export const decommissionTasks = {
  deleteHost: (platform: Platform, input: DecommissionInput) =>
    step(platform, input, 'deleteHost', async () => {
      const server = await serverOf(platform, input);
      if (!server?.hostId) return { host: null };
      const deleted = await deleteServerHosts(await providerOf(platform.store, server), server);
      await platform.store.update(serverKeys.item(input.tenantId, input.serverId), {
        hostId: undefined,
        updatedAt: now(platform),
      });
      return {
        host: server.hostId,
        deleted: true,
        ...(deleted.length > 1 ? { alsoDeleted: deleted.slice(1) } : {}),
      };
    }),

  forgetAgent: (platform: Platform, input: DecommissionInput) =>
    step(platform, input, 'forgetAgent', async () => {
      const server = await serverOf(platform, input);
      if (!server) return { instances: [], activation: null };
      const { instances } = await forgetAgent(server);
      await platform.store.update(serverKeys.item(input.tenantId, input.serverId), {
        instanceId: undefined,
        activationId: undefined,
        updatedAt: now(platform),
      });
      return { instances, activation: server.activationId ?? null };
    }),

  /** Deletes the server, moves the counter and gives back the quota an active server held, together. */
  removeServer: (platform: Platform, input: DecommissionInput) =>
    step(
      platform,
      input,
      'removeServer',
      async () => {
        const server = await serverOf(platform, input);
        if (!server) return { removed: true };
        // active and provisioning servers hold a unit of quota; a failed one gave it back already
        const holdsQuota = server.deletingFrom === 'active' || server.deletingFrom === 'provisioning';
        try {
          await platform.store.transact([
            named(
              'server',
              deleteItem(serverKeys.item(input.tenantId, input.serverId), { equals: { status: 'deleting' } }),
            ),
            countersChange(input.tenantId, {
              servers: { from: 'deleting' },
              ...(holdsQuota ? { giveBackQuota: 'servers' as const } : {}),
            }),
          ]);
        } catch (error) {
          // a second run finds the server gone; anything else is a real failure
          if (!refusedBy(error, 'server')) throw error;
        }
        return { removed: true, quotaReturned: holdsQuota };
      },
      { status: 'succeeded', result: { serverId: input.serverId, status: 'deleted' } },
    ),

  /** Marks the step that was running as failed, and the operation; the server stays `deleting`. */
  async failed(platform: Platform, input: DecommissionInput, failure: { code: string; message: string }) {
    const operation = await platform.store.get<OperationItem>(
      operationKeys.item(input.tenantId, input.operationId),
      true,
    );
    const order = operation?.stepOrder ?? [...decommissionSteps];
    const failedIndex = Math.max(
      0,
      order.findIndex((name) => operation?.steps[name]?.status === 'running'),
    );
    const at = now(platform);
    const changes: StepChanges = {};
    order.forEach((name, index) => {
      if (index === failedIndex) changes[name] = { status: 'failed', endedAt: at, error: failure };
      else if (index > failedIndex) changes[name] = { status: 'skipped' };
    });
    await recordSteps(platform.store, input, at, changes, { status: 'failed', error: failure });
    logger.warn('Decommissioning failed', { serverId: input.serverId, error: failure });
    return { status: 'failed' };
  },
};
