import { errors } from '../../../layers/errors/app-error';
import {
  commandStep,
  type OperationItem,
  operationKeys,
  recordSteps,
} from '../../../layers/model/operations';
import type { ServerStack } from '../../../layers/model/stack';
import type { Platform } from '../../../layers/runtime/platform';
import type { TransactItem } from '../../../layers/store/store';
import type { HostDocumentName } from '../../../step-functions/workflows';
import {
  type CommandWorkflow,
  commandWorkflows,
  type EndedCommand,
  type NamedOperationKind,
  type OperationKindRegistry,
} from '../operation-kinds';
import { endExclusive, readyServer, type ServerOperationDeps, startOnServer } from '../server-operations';
import { bootstrapParameters, documentSafe, type RestartableService, unitsOf } from '../stack/service';

/**
 * What a command workflow is started with: the server's instance, the document and its
 * parameters, and the subject the command changes (its context's fields, spread in: a site's
 * id, a backup's), which the kind's settling reads back when the command ends.
 */
export type CommandInput = EndedCommand & {
  correlationId: string;
  instanceId: string;
  /** the SSM document the command runs */
  documentName: string;
  parameters: Record<string, string[]>;
} & Record<string, unknown>;

/** The fields a command's context names what it changes with. */
export type CommandSubject = Record<string, string | boolean | undefined>;

/** How a command on a server is started, whoever owns its kind. */
export interface CommandStart {
  kind: NamedOperationKind;
  /** what it changes, for its settling */
  subject?: CommandSubject;
  /** the document's parameters (a kind with a documentAction gets the run-command document's) */
  parameters?: Record<string, string>;
  /** restart-service: the service to restart, which the server's stack must have */
  service?: RestartableService;
  script?: string;
  publicKey?: string;
  /** change-stack: the stack wanted, from the server's current one (throws a 400 for a change it refuses) */
  stack?: (current: ServerStack) => ServerStack;
  /** written with the operation, in one transaction */
  alongside?: (operationId: string) => TransactItem[];
  /** numbers of the server's own changed with the operation (its count of sites) */
  serverAdd?: Record<string, number>;
}

/** The document's parameters as SSM takes them (each a list), with the correlation id. */
const documentParameters = (parameters: Record<string, string>, correlationId: string) => ({
  ...Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]])),
  correlationId: [documentSafe(correlationId)],
});

/**
 * Starts a change on an active server through its kind's command workflow (run-command, or a
 * backup's or restore's own) and host document: an operation with one step, `run`, whose output
 * is the command's exit code, stdout and stderr. A stack change runs the bootstrap document again
 * with the grown stack (it converges the host and leaves what is already in place as it is),
 * alone on the server.
 */
export function makeRunCommand(
  deps: Omit<ServerOperationDeps, 'stateMachineArn'> & {
    /** the state machine of each command workflow */
    machines: Record<CommandWorkflow, string>;
    /** a host document's SSM name */
    documentName: (document: HostDocumentName) => string;
  },
) {
  return async (tenantId: string, serverId: string, correlationId: string, command: CommandStart) => {
    const { kind } = command;
    const workflow = kind.workflow as CommandWorkflow;
    if (!commandWorkflows.includes(workflow) || !kind.document) {
      throw new Error(`${kind.name} is not a command on a host`);
    }
    const server = await readyServer(deps.store, tenantId, serverId);
    const units = command.service === undefined ? [] : unitsOf(server.stack, command.service);
    if (typeof units === 'string') throw errors.validation([{ path: 'path.service', message: units }]);
    const stack = command.stack?.(server.stack);
    const parameters = stack
      ? bootstrapParameters(stack, correlationId)
      : kind.documentAction
        ? documentParameters(
            {
              action: kind.documentAction,
              publicKeyBase64: Buffer.from(command.publicKey ?? '', 'utf8').toString('base64'),
              service: units.join(' '),
              scriptBase64: Buffer.from(command.script ?? '', 'utf8').toString('base64'),
            },
            correlationId,
          )
        : documentParameters(command.parameters ?? {}, correlationId);
    const { operation } = await startOnServer(
      { ...deps, stateMachineArn: deps.machines[workflow] },
      {
        tenantId,
        serverId,
        correlationId,
        kind: kind.name,
        cancellable: { workflow, cancel: kind.cancel },
        steps: [commandStep],
        workflow: 'command',
        ...(stack ? { exclusive: 'stackOperationId' as const } : {}),
        ...(command.alongside ? { alongside: command.alongside } : {}),
        ...(command.serverAdd ? { serverAdd: command.serverAdd } : {}),
        input: (operationId): CommandInput => ({
          ...command.subject,
          tenantId,
          serverId,
          operationId,
          correlationId,
          kind: kind.name,
          instanceId: server.instanceId,
          documentName: deps.documentName(kind.document as HostDocumentName),
          ...(stack ? { stack } : {}),
          parameters,
        }),
        ...(stack
          ? { onNotStarted: (input: CommandInput) => endExclusive(deps.store, input, 'stackOperationId') }
          : {}),
      },
    );
    return { server, operation };
  };
}

/**
 * The command workflows' tasks: mark the step running, then record how the command ended, after
 * its kind (from every context's, `kinds`) has settled what it changed.
 */
export const makeCommandTasks = (kinds: OperationKindRegistry) => ({
  /** The command is on its way to the host: its step runs, and names the command (whose output streams). */
  async started(
    platform: Platform,
    input: CommandInput,
    command?: { commandId: string; instanceId: string },
  ) {
    const at = platform.clock.now().toISOString();
    await recordSteps(
      platform.store,
      input,
      at,
      {
        [commandStep]: {
          status: 'running',
          startedAt: at,
          ...(command ? { command: { id: command.commandId, instanceId: command.instanceId } } : {}),
        },
      },
      { status: 'running' },
    );
    return {};
  },
  async ended(
    platform: Platform,
    input: CommandInput,
    outcome: { output?: Record<string, unknown>; error?: { code: string; message: string } },
  ) {
    // What the command changed (an SSH key's record, the server's stack) settles first:
    // whoever sees the operation end sees it as it is.
    const at = platform.clock.now().toISOString();
    const kind = kinds[input.kind];
    const said = typeof outcome.output?.stderr === 'string' ? outcome.output.stderr.trim() : '';
    if (outcome.error && kind?.explainsFailure && said) {
      // what the host said last is what went wrong: the validator's message, say
      outcome = {
        ...outcome,
        error: { ...outcome.error, message: said.split('\n').slice(-5).join('\n').slice(0, 2000) },
      };
    }
    await kind?.onEnd?.(platform.store, input, outcome.error === undefined, {
      output: outcome.output,
      at,
      platform,
    });
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
});
