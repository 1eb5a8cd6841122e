import { ExecutionDoesNotExist, type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  InvalidCommandId,
  InvocationDoesNotExist,
  ListCommandsCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { Principal } from '../../../layers/auth/tokens';
import { executionArn, stateMachineArn } from '../../../layers/config/resources';
import { errors } from '../../../layers/errors/app-error';
import { ignoring } from '../../../layers/errors/ignoring';
import { type OperationItem, operationKeys, recordSteps } from '../../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import type { WorkflowName } from '../../../step-functions/workflows';
import { failedSteps } from '../../operations/service';
import { type DecommissionDeps, makeDeleteServer } from '../decommission/service';
import { type OperationKindRegistry, serverOperationKinds } from '../operation-kinds';

export interface CancelDeps extends DecommissionDeps {
  sfn: SFNClient;
  ssm: SSMClient;
  /** the workflows' state machine ARNs up to the workflow's name */
  stateMachineArnPrefix: string;
  runCommandDocument: string;
}

/**
 * How an operation is cancelled: as its record says (a command's kind declared it when it
 * started, whichever context owns it), or as the servers context's own kinds say.
 */
function cancelOf(
  operation: OperationItem,
): { cancel: 'provisioning' | 'command' | false; workflow: string } | undefined {
  if (operation.cancel !== undefined && operation.workflow) {
    return { cancel: operation.cancel, workflow: operation.workflow };
  }
  return (serverOperationKinds as OperationKindRegistry)[operation.kind];
}

export type Cancelled =
  /** a provisioning: the server is being decommissioned by this operation */
  | { decommissioning: true; server: ServerItem; operation: OperationItem }
  /** a command: the operation itself, now cancelled */
  | { decommissioning: false; operation: OperationItem };

/**
 * Cancels an operation that has not ended. A provisioning's execution is stopped and the
 * server decommissioned, which deletes what provisioning had made so far and gives the quota
 * back. A command's execution is stopped and its SSM command cancelled on the host (its
 * processes are killed; what it changed before stays changed, as with any interrupted
 * script). A reboot, a stack change or a decommissioning cannot be taken back and answers 409.
 */
export function makeCancelOperation(deps: CancelDeps) {
  return async (
    tenantId: string,
    operationId: string,
    principal: Principal,
    correlationId: string,
  ): Promise<Cancelled> => {
    const operation = await deps.store.get<OperationItem>(operationKeys.item(tenantId, operationId), true);
    if (!operation) throw errors.notFound('operation');
    const kind = cancelOf(operation);
    const isCommand = kind?.cancel === 'command';
    if (!kind?.cancel) {
      throw errors.conflict(
        'Only a provisioning or a command can be cancelled; a reboot, a stack change or a decommissioning runs to its end.',
      );
    }
    if (operation.status !== 'pending' && operation.status !== 'running') {
      throw errors.conflict(`The operation has already ended (${operation.status}).`);
    }
    const cancelled = { code: 'cancelled', message: `Cancelled by ${principal.userId}` };
    await ignoring(ExecutionDoesNotExist, () =>
      deps.sfn.send(
        new StopExecutionCommand({
          executionArn: executionArn(
            stateMachineArn(deps.stateMachineArnPrefix, kind.workflow as WorkflowName),
            operationId,
          ),
          error: 'Cancelled',
          cause: cancelled.message,
        }),
      ),
    );
    const command = isCommand ? await cancelOnHost(deps, operation) : undefined;
    // The step that was running is cancelled with what its command printed so far, the later
    // ones are skipped. A workflow that ended just before its execution was stopped got there
    // first: its ending stands, and the cancel is a 409.
    const at = deps.clock.now().toISOString();
    const ended = await recordSteps(
      deps.store,
      { tenantId, operationId },
      at,
      failedSteps(operation.stepOrder, operation, at, cancelled, command, 'cancelled'),
      { status: 'cancelled', error: cancelled },
    );
    const now = await deps.store.get<OperationItem>(operationKeys.item(tenantId, operationId), true);
    if (!ended || !now) throw errors.conflict(`The operation has already ended (${now?.status ?? 'gone'}).`);
    if (isCommand) return { decommissioning: false, operation: now };
    const decommission = await makeDeleteServer(deps)(
      tenantId,
      operation.targetId,
      correlationId,
      undefined,
      {
        cancelling: true,
      },
    );
    return { decommissioning: true, ...decommission };
  };
}

/**
 * A command's half of a cancel, once its execution is stopped: the SSM command, found by the
 * operation id the workflow put in its comment, is cancelled on the host, and an SSH key it was
 * changing is marked failed (whether the host holds it is unknown) unless its command settled
 * it first. Answers the command's id and what it had printed, when it was sent.
 */
async function cancelOnHost(
  deps: CancelDeps,
  operation: OperationItem,
): Promise<Record<string, unknown> | undefined> {
  const { tenantId, targetId: serverId } = operation;
  const server = await deps.store.get<ServerItem>(serverKeys.item(tenantId, serverId), true);
  const instanceId = server?.instanceId;
  const commandId = instanceId ? await findCommand(deps, instanceId, operation) : undefined;
  let printed: Record<string, unknown> = {};
  if (instanceId && commandId) {
    await ignoring(InvalidCommandId, () =>
      deps.ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] })),
    );
    printed = await outputSoFar(deps, commandId, instanceId);
  }
  // what the command was changing is marked failed, unless its own ending settled it first
  await (serverOperationKinds as OperationKindRegistry)[operation.kind]?.onCancel?.(deps.store, operation);
  return commandId ? { commandId, ...printed } : undefined;
}

/**
 * What a cancelled command had printed. The agent reports it once the killed script has exited,
 * so it is asked a few times, briefly; a command that printed nothing shows empty output.
 */
async function outputSoFar(
  deps: CancelDeps,
  commandId: string,
  instanceId: string,
): Promise<Record<string, unknown>> {
  let output: { exitCode: number; stdout: string; stderr: string } | undefined;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      const invocation = await deps.ssm.send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
      );
      output = {
        exitCode: invocation.ResponseCode ?? -1,
        stdout: invocation.StandardOutputContent ?? '',
        stderr: invocation.StandardErrorContent ?? '',
      };
    } catch (error) {
      if (error instanceof InvocationDoesNotExist) break;
      throw error;
    }
    if (output.stdout || output.stderr) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return output ? { stdout: output.stdout, stderr: output.stderr } : {};
}

/** The SSM command a run-command execution sent for an operation: its comment ends with the operation id. */
async function findCommand(
  deps: CancelDeps,
  instanceId: string,
  operation: OperationItem,
): Promise<string | undefined> {
  // a minute's margin for a clock that differs between the API and SSM, in the form SSM's
  // reference gives for the filter (2021-07-07T00:00:00Z)
  const after = new Date(Date.parse(operation.createdAt) - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let nextToken: string | undefined;
  do {
    const page = await deps.ssm.send(
      new ListCommandsCommand({
        InstanceId: instanceId,
        Filters: [
          { key: 'DocumentName', value: deps.runCommandDocument },
          { key: 'InvokedAfter', value: after },
        ],
        MaxResults: 50,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    const found = page.Commands?.find((c) => c.Comment?.endsWith(` ${operation.id}`));
    if (found?.CommandId) return found.CommandId;
    nextToken = page.NextToken;
  } while (nextToken);
  return undefined;
}
