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
import { type CommandKind, type CommandWorkflow, operationKindOf, operationKinds } from '../operation-kinds';
import { endExclusive, readyServer, type ServerOperationDeps, startOnServer } from '../server-operations';
import { bootstrapParameters, documentSafe, type RestartableService, unitsOf } from '../stack/service';

/** What the run-command workflow is started with: the server's instance and the document's parameters. */
export interface CommandInput {
  tenantId: string;
  serverId: string;
  operationId: string;
  correlationId: string;
  kind: CommandKind;
  instanceId: string;
  /** the SSM document the command runs: the run-command document, or the bootstrap for a stack change */
  documentName: string;
  /** the SSH key the command authorises or revokes */
  keyId?: string;
  /** the site the command applies or removes */
  siteId?: string;
  /** the database or database user the command changes */
  databaseId?: string;
  userId?: string;
  /** the backup the command makes */
  backupId?: string;
  /** a backup: once verified, also restored into scratch on its host */
  testRestore?: boolean;
  /** change-stack: the stack the server has once the bootstrap has converged it */
  stack?: ServerStack;
  parameters: Record<string, string[]>;
}

/** The documents of other contexts a command may run, by the key the deps name them with. */
const documentKeys = {
  database: 'database',
  'backup-site': 'backupSite',
  'restore-site': 'restoreSite',
} as const;

/**
 * Starts a change on an active server through its kind's command workflow (run-command, or a
 * backup's or restore's own): an operation with one step, `run`, whose output is the command's
 * exit code, stdout and stderr. A stack change runs the bootstrap document again with the grown
 * stack (it converges the host and leaves what is already in place as it is), alone on the server.
 */
export function makeRunCommand(
  deps: Omit<ServerOperationDeps, 'stateMachineArn'> & {
    /** the state machine of each command workflow */
    machines: Record<CommandWorkflow, string>;
    documents: {
      runCommand: string;
      bootstrap: string;
      site: string;
      installApp: string;
      deploySite: string;
      database: string;
      backupSite: string;
      restoreSite: string;
    };
  },
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
      /** a site's command: the site, the document (the site document unless named) and its parameters */
      site?: {
        siteId: string;
        document?: 'site' | 'install-app' | 'deploy-site';
        parameters: Record<string, string>;
      };
      /**
       * A command of another context's own document (the database document, the backup
       * document): what it changes, for its settling, and the document's parameters.
       */
      document?: {
        name: 'database' | 'backup-site' | 'restore-site';
        subject: {
          databaseId?: string;
          userId?: string;
          siteId?: string;
          backupId?: string;
          testRestore?: boolean;
        };
        parameters: Record<string, string>;
      };
      /** change-stack: the stack wanted, from the server's current one (throws a 400 for a change it refuses) */
      stack?: (current: ServerStack) => ServerStack;
      /** written with the operation, in one transaction */
      alongside?: (operationId: string) => TransactItem[];
      /** numbers of the server's own changed with the operation (its count of sites) */
      serverAdd?: Record<string, number>;
    },
  ) => {
    const server = await readyServer(deps.store, tenantId, serverId);
    const units = command.service === undefined ? [] : unitsOf(server.stack, command.service);
    if (typeof units === 'string') throw errors.validation([{ path: 'path.service', message: units }]);
    const stack = command.stack?.(server.stack);
    const workflow: CommandWorkflow = operationKinds[command.kind].workflow;
    const { operation } = await startOnServer(
      { ...deps, stateMachineArn: deps.machines[workflow] },
      {
        tenantId,
        serverId,
        correlationId,
        kind: command.kind,
        steps: [commandStep],
        workflow: 'command',
        ...(stack ? { exclusive: 'stackOperationId' as const } : {}),
        ...(command.alongside ? { alongside: command.alongside } : {}),
        ...(command.serverAdd ? { serverAdd: command.serverAdd } : {}),
        input: (operationId): CommandInput => ({
          tenantId,
          serverId,
          operationId,
          correlationId,
          kind: command.kind,
          instanceId: server.instanceId,
          ...(command.keyId ? { keyId: command.keyId } : {}),
          ...(command.site ? { siteId: command.site.siteId } : {}),
          ...(command.document?.subject ?? {}),
          ...(command.document
            ? {
                documentName: deps.documents[documentKeys[command.document.name]],
                parameters: {
                  ...Object.fromEntries(
                    Object.entries(command.document.parameters).map(([k, v]) => [k, [v]]),
                  ),
                  correlationId: [documentSafe(correlationId)],
                },
              }
            : command.site
              ? {
                  documentName:
                    command.site.document === 'install-app'
                      ? deps.documents.installApp
                      : command.site.document === 'deploy-site'
                        ? deps.documents.deploySite
                        : deps.documents.site,
                  parameters: {
                    ...Object.fromEntries(Object.entries(command.site.parameters).map(([k, v]) => [k, [v]])),
                    correlationId: [documentSafe(correlationId)],
                  },
                }
              : stack
                ? {
                    documentName: deps.documents.bootstrap,
                    stack,
                    parameters: bootstrapParameters(stack, correlationId),
                  }
                : {
                    documentName: deps.documents.runCommand,
                    parameters: {
                      action: [operationKindOf(command.kind)?.documentAction ?? ''],
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
      },
    );
    return { server, operation };
  };
}

/** The run-command workflow's tasks: mark the step running, then record how the command ended. */
export const commandTasks = {
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
    const kind = operationKindOf(input.kind);
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
};
