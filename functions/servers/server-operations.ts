import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { errors } from '../../layers/errors/app-error';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import type { OperationItem } from '../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import { ConditionFailedError, refusedBy, type Store, type TransactItem } from '../../layers/store/store';
import { named, putNew, updateItem } from '../../layers/store/writes';
import { newOperation, recordNotStarted } from '../operations/service';

export interface ServerOperationDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  sfn: SFNClient;
  stateMachineArn: string;
}

/** An active server running neither a reboot nor a stack change: the only kind a command, a reboot or a stack change starts on. */
export async function readyServer(
  store: Store,
  tenantId: string,
  serverId: string,
): Promise<ServerItem & { instanceId: string }> {
  const server = await store.get<ServerItem>(serverKeys.item(tenantId, serverId), true);
  if (!server) throw errors.notFound('server');
  if (server.status !== 'active' || !server.instanceId) {
    throw errors.conflict(`The server is ${server.status}; commands and reboots run on active servers only.`);
  }
  if (server.rebootOperationId) throw errors.conflict('The server is rebooting; try again once it is back.');
  if (server.stackOperationId) {
    throw errors.conflict(
      'Software is being installed on the server; try again once its operation has ended.',
    );
  }
  return server as ServerItem & { instanceId: string };
}

/**
 * Starts a workflow on a ready server: the operation is written and the server marked with it
 * (and, for a reboot or a stack change, as running it alone) in one transaction that holds only
 * while the server is still active and runs neither; then the execution starts under the
 * operation's id. A start that fails ends the operation failed (after `onNotStarted`) and the
 * error goes on. The server's write is named `server`; `alongside` items name their own, so a
 * caller tells its refusals apart by name.
 */
export async function startOnServer<Input extends { operationId: string }>(
  { store, clock, ids, sfn, stateMachineArn }: ServerOperationDeps,
  start: {
    tenantId: string;
    serverId: string;
    correlationId: string;
    kind: string;
    /** how a cancel takes it back, recorded on the operation for the cancel route to read */
    cancellable?: Pick<OperationItem, 'workflow' | 'cancel'>;
    steps: readonly string[];
    /** for the message of a start that failed: "The {workflow} workflow could not be started." */
    workflow: string;
    /** the mark the server holds while this runs alone: no command, reboot or stack change meanwhile */
    exclusive?: 'rebootOperationId' | 'stackOperationId';
    /** other items written with the operation */
    alongside?: (operationId: string) => TransactItem[];
    /** numbers of the server's own changed with it (its count of sites) */
    serverAdd?: Record<string, number>;
    input: (operationId: string) => Input;
    onNotStarted?: (input: Input) => Promise<void>;
  },
): Promise<{ operation: OperationItem; input: Input }> {
  const { tenantId, serverId } = start;
  const now = clock.now().toISOString();
  const operationId = ids.next('op');
  const operation = newOperation({
    tenantId,
    operationId,
    kind: start.kind,
    targetId: serverId,
    steps: start.steps,
    correlationId: start.correlationId,
    now,
    ...start.cancellable,
  });
  try {
    await store.transact([
      putNew(operation),
      named(
        'server',
        updateItem(
          serverKeys.item(tenantId, serverId),
          {
            set: {
              lastOperationId: operationId,
              updatedAt: now,
              ...(start.exclusive ? { [start.exclusive]: operationId } : {}),
            },
            ...(start.serverAdd ? { add: start.serverAdd } : {}),
            bumpVersion: false,
          },
          { equals: { status: 'active' }, absent: ['rebootOperationId', 'stackOperationId'] },
        ),
      ),
      ...(start.alongside?.(operationId) ?? []),
    ]);
  } catch (error) {
    if (refusedBy(error, 'server')) {
      throw errors.conflict(
        'The server changed meanwhile (it is rebooting or installing software, or no longer active).',
      );
    }
    throw error;
  }
  const input = start.input(operationId);
  try {
    await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: operationId, input: JSON.stringify(input) }),
    );
  } catch (cause) {
    await start.onNotStarted?.(input);
    await recordNotStarted(store, { tenantId, operationId }, clock.now().toISOString(), start.workflow);
    throw cause;
  }
  return { operation: operation as OperationItem, input };
}

/**
 * A reboot or a stack change has ended: the server no longer holds its mark (and takes the
 * changes it brought). Only the operation that set the mark clears it; a server deleted
 * meanwhile stays deleted.
 */
export async function endExclusive(
  store: Store,
  ref: { tenantId: string; serverId: string; operationId: string },
  mark: 'rebootOperationId' | 'stackOperationId',
  changes: Record<string, unknown> = {},
) {
  try {
    await store.update(
      serverKeys.item(ref.tenantId, ref.serverId),
      { [mark]: undefined, ...changes },
      { where: { equals: { [mark]: ref.operationId } } },
    );
  } catch (error) {
    if (!(error instanceof ConditionFailedError)) throw error;
  }
}
