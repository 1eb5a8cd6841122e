import { ExecutionDoesNotExist, type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  InvalidCommandId,
  InvocationDoesNotExist,
  ListCommandsCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { Principal } from '../../layers/auth/tokens';
import { executionArn } from '../../layers/config/resources';
import { errors } from '../../layers/errors/app-error';
import { ignoring } from '../../layers/errors/ignoring';
import { tenantPartition } from '../../layers/model/keys';
import { type OperationItem, operationKeys, recordSteps } from '../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import { type SshKeyItem, sshKeyKeys } from '../../layers/model/ssh-keys';
import { failedSteps } from '../operations/service';
import { type CommandInput, settleSshKey } from './commands';
import { type DecommissionDeps, makeDeleteServer } from './decommission';

const commandKinds = new Set<string>([
  'restart-service',
  'run-recipe',
  'authorize-ssh-key',
  'revoke-ssh-key',
] satisfies CommandInput['kind'][]);

export interface CancelDeps extends DecommissionDeps {
  sfn: SFNClient;
  ssm: SSMClient;
  provisionStateMachineArn: string;
  runCommandStateMachineArn: string;
  runCommandDocument: string;
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
    const isCommand = commandKinds.has(operation.kind);
    if (operation.kind !== 'provision-server' && !isCommand) {
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
            isCommand ? deps.runCommandStateMachineArn : deps.provisionStateMachineArn,
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
  const { tenantId, id: operationId, targetId: serverId } = operation;
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
  if (operation.kind === 'authorize-ssh-key' || operation.kind === 'revoke-ssh-key') {
    const keys = await deps.store.query<SshKeyItem>({
      pk: tenantPartition(tenantId),
      skPrefix: sshKeyKeys.prefix(serverId),
      limit: 100,
      tenantId,
      scope: 'ssh-keys',
    });
    const key = keys.items.find((k) => k.lastOperationId === operationId);
    if (key) {
      await settleSshKey(
        deps.store,
        { tenantId, serverId, operationId, kind: operation.kind, keyId: key.id },
        false,
      );
    }
  }
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
