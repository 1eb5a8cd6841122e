import { errors } from '../../layers/errors/app-error';
import { ignoring } from '../../layers/errors/ignoring';
import { commandStep, type OperationItem, operationKeys, recordSteps } from '../../layers/model/operations';
import { type SshKeyItem, sshKeyKeys } from '../../layers/model/ssh-keys';
import type { Platform } from '../../layers/runtime/platform';
import { ConditionFailedError, type Store, type TransactItem } from '../../layers/store/store';
import { recordStarted } from '../operations/service';
import { endExclusive, readyServer, type ServerOperationDeps, startOnServer } from './server-operations';
import {
  bootstrapParameters,
  documentSafe,
  type RestartableService,
  type ServerStack,
  unitsOf,
} from './stack';

/** What the run-command workflow is started with: the server's instance and the document's parameters. */
export interface CommandInput {
  tenantId: string;
  serverId: string;
  operationId: string;
  correlationId: string;
  kind: 'restart-service' | 'run-recipe' | 'authorize-ssh-key' | 'revoke-ssh-key' | 'change-stack';
  instanceId: string;
  /** the SSM document the command runs: the run-command document, or the bootstrap for a stack change */
  documentName: string;
  /** the SSH key the command authorises or revokes */
  keyId?: string;
  /** change-stack: the stack the server has once the bootstrap has converged it */
  stack?: ServerStack;
  parameters: Record<string, string[]>;
}

/** The run-command document's action for each kind of command that runs it. */
const documentAction: Record<Exclude<CommandInput['kind'], 'change-stack'>, string> = {
  'restart-service': 'restart-service',
  'run-recipe': 'recipe',
  'authorize-ssh-key': 'authorize-key',
  'revoke-ssh-key': 'revoke-key',
};

/**
 * Starts a change on an active server through the run-command workflow: an operation with
 * one step, `run`, whose output is the command's exit code, stdout and stderr. A stack change
 * runs the bootstrap document again with the grown stack (it converges the host and leaves
 * what is already in place as it is), alone on the server.
 */
export function makeRunCommand(
  deps: ServerOperationDeps & { documents: { runCommand: string; bootstrap: string } },
) {
  return async (
    tenantId: string,
    serverId: string,
    correlationId: string,
    command: {
      kind: CommandInput['kind'];
      /** restart-service: the service to restart, which the server's stack must have */
      service?: RestartableService;
      script?: string;
      publicKey?: string;
      keyId?: string;
      /** change-stack: the stack wanted, from the server's current one (throws a 400 for a change it refuses) */
      stack?: (current: ServerStack) => ServerStack;
      /** written with the operation, in one transaction */
      alongside?: (operationId: string) => TransactItem[];
    },
  ) => {
    const server = await readyServer(deps.store, tenantId, serverId);
    const units = command.service === undefined ? [] : unitsOf(server.stack, command.service);
    if (typeof units === 'string') throw errors.validation([{ path: 'path.service', message: units }]);
    const stack = command.stack?.(server.stack);
    const { operation } = await startOnServer(deps, {
      tenantId,
      serverId,
      correlationId,
      kind: command.kind,
      steps: [commandStep],
      workflow: 'command',
      ...(stack ? { exclusive: 'stackOperationId' as const } : {}),
      ...(command.alongside ? { alongside: command.alongside } : {}),
      input: (operationId): CommandInput => ({
        tenantId,
        serverId,
        operationId,
        correlationId,
        kind: command.kind,
        instanceId: server.instanceId,
        ...(command.keyId ? { keyId: command.keyId } : {}),
        ...(stack
          ? {
              documentName: deps.documents.bootstrap,
              stack,
              parameters: bootstrapParameters(stack, correlationId),
            }
          : {
              documentName: deps.documents.runCommand,
              parameters: {
                action: [documentAction[command.kind as keyof typeof documentAction]],
                publicKeyBase64: [Buffer.from(command.publicKey ?? '', 'utf8').toString('base64')],
                service: [units.join(' ')],
                scriptBase64: [Buffer.from(command.script ?? '', 'utf8').toString('base64')],
                correlationId: [documentSafe(correlationId)],
              },
            }),
      }),
      ...(stack
        ? { onNotStarted: (input: CommandInput) => endExclusive(deps.store, input, 'stackOperationId') }
        : {}),
    });
    return { server, operation };
  };
}

/** The run-command workflow's tasks: mark the step running, then record how the command ended. */
export const commandTasks = {
  async started(platform: Platform, input: CommandInput) {
    await recordStarted(platform.store, input, platform.clock.now().toISOString(), commandStep);
    return {};
  },
  async ended(
    platform: Platform,
    input: CommandInput,
    outcome: { output?: Record<string, unknown>; error?: { code: string; message: string } },
  ) {
    // The key's record (or the server's stack) settles first: whoever sees the operation end
    // sees the key, or the stack, as it is.
    if (input.keyId)
      await settleSshKey(platform.store, { ...input, keyId: input.keyId }, outcome.error === undefined);
    if (input.kind === 'change-stack') {
      await endExclusive(
        platform.store,
        input,
        'stackOperationId',
        outcome.error === undefined && input.stack ? { stack: input.stack } : {},
      );
    }
    const at = platform.clock.now().toISOString();
    const operation = await platform.store.get<OperationItem>(
      operationKeys.item(input.tenantId, input.operationId),
      true,
    );
    // A cancel may have ended the operation first; the first ending stands.
    await recordSteps(
      platform.store,
      input,
      at,
      {
        [commandStep]: {
          status: outcome.error ? 'failed' : 'succeeded',
          ...(operation?.steps[commandStep]?.startedAt ? {} : { startedAt: at }),
          endedAt: at,
          ...(outcome.output ? { output: outcome.output } : {}),
          ...(outcome.error ? { error: outcome.error } : {}),
        },
      },
      outcome.error
        ? { status: 'failed', error: outcome.error }
        : { status: 'succeeded', result: { serverId: input.serverId } },
    );
    return {};
  },
};

/**
 * An SSH key's record follows its command: authorised, or gone once revoked; failed otherwise
 * (a cancelled command too). Only the key's latest command decides, and only once: whichever of
 * the command's ending and a cancel comes first settles it.
 */
export async function settleSshKey(
  store: Store,
  ref: Pick<CommandInput, 'tenantId' | 'serverId' | 'operationId' | 'kind'> & { keyId: string },
  succeeded: boolean,
) {
  const key = sshKeyKeys.item(ref.tenantId, ref.serverId, ref.keyId);
  const item = await store.get<SshKeyItem>(key, true);
  if (!item || item.lastOperationId !== ref.operationId) return;
  if (item.status !== 'authorizing' && item.status !== 'revoking') return;
  if (succeeded && ref.kind === 'revoke-ssh-key') {
    await store.remove(key);
    return;
  }
  await ignoring(ConditionFailedError, () =>
    store.update(
      key,
      { status: succeeded ? 'authorized' : 'failed' },
      { where: { equals: { status: item.status, lastOperationId: ref.operationId } } },
    ),
  );
}
