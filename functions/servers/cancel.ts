import { ExecutionDoesNotExist, type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Principal } from '../../layers/auth/tokens';
import { errors } from '../../layers/errors/app-error';
import { ignoring } from '../../layers/errors/ignoring';
import { type OperationItem, operationKeys } from '../operations/entity';
import { recordSteps, type StepChanges } from '../operations/service';
import { type DecommissionDeps, makeDeleteServer } from './decommission';

/** A running execution's ARN from its state machine's ARN and its name (the operation id). */
const executionArn = (stateMachineArn: string, name: string) =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/**
 * Cancels a provisioning that has not ended: its execution is stopped, the operation ends
 * `cancelled` (the step that was running failed with `cancelled`, the rest skipped), and the
 * server is decommissioned, which deletes what provisioning had made so far and gives the
 * quota back. Answers the decommissioning's operation. Provisioning's own tasks write only
 * while the server is still provisioning, so a task that was in flight undoes its own work.
 */
export function makeCancelProvisioning(
  deps: DecommissionDeps & { sfn: SFNClient; provisionStateMachineArn: string },
) {
  return async (tenantId: string, operationId: string, principal: Principal, correlationId: string) => {
    const operation = await deps.store.get<OperationItem>(operationKeys.item(tenantId, operationId), true);
    if (!operation) throw errors.notFound('operation');
    if (operation.kind !== 'provision-server') {
      throw errors.conflict('Only a provisioning can be cancelled; other operations run to their end.');
    }
    if (operation.status !== 'pending' && operation.status !== 'running') {
      throw errors.conflict(`The operation has already ended (${operation.status}).`);
    }
    await ignoring(ExecutionDoesNotExist, () =>
      deps.sfn.send(
        new StopExecutionCommand({
          executionArn: executionArn(deps.provisionStateMachineArn, operationId),
          error: 'Cancelled',
          cause: `Cancelled by ${principal.userId}`,
        }),
      ),
    );
    const at = deps.clock.now().toISOString();
    const cancelled = { code: 'cancelled', message: `Cancelled by ${principal.userId}` };
    const changes: StepChanges = {};
    for (const name of operation.stepOrder) {
      const step = operation.steps[name];
      if (step?.status === 'running') changes[name] = { status: 'failed', endedAt: at, error: cancelled };
      else if (step?.status === 'pending') changes[name] = { status: 'skipped' };
    }
    await recordSteps(deps.store, { tenantId, operationId }, at, changes, {
      status: 'cancelled',
      error: cancelled,
    });
    return makeDeleteServer(deps)(tenantId, operation.targetId, correlationId, undefined, {
      cancelling: true,
    });
  };
}
