import type { OperationItem } from '../../layers/model/operations';
import type { ServerStack } from '../../layers/model/stack';
import type { Platform } from '../../layers/runtime/platform';
import type { Store } from '../../layers/store/store';
import type { HostDocumentName, WorkflowName } from '../../step-functions/workflows';
import { endExclusive } from './server-operations';
import { settleSshKey, settleSshKeyOfCancelled } from './ssh-keys/service';

/**
 * What a command's ending (or its cancel) is told: the command's ids, the subject it changes
 * (the fields its context gave when it started it: a site's id, a backup's...) and, for a stack
 * change, the stack it brings.
 */
export interface EndedCommand {
  tenantId: string;
  serverId: string;
  operationId: string;
  kind: string;
  stack?: ServerStack;
}

/** How a command ended, for its kind's settling: what the host printed, when, and the platform to act on. */
export interface CommandEnding {
  output?: Record<string, unknown> | undefined;
  at: string;
  platform: Platform;
}

/**
 * One kind of operation on a server, as the context that owns it declares it in its own folder
 * (functions/<context>/operation-kinds.ts); functions/operation-kinds.ts merges them. The servers
 * context runs every kind's command and knows nothing of what it changes: the kind says which
 * workflow and host document run it, how it settles, and whether a cancel takes it back.
 */
export interface OperationKind<Subject extends object = object> {
  /** the workflow that runs it (and whose execution a cancel stops) */
  workflow: WorkflowName;
  /** the host document a command of this kind runs (step-functions/workflows.ts, hostDocuments) */
  document?: HostDocumentName;
  /**
   * How a cancel takes it back: `provisioning` stops the workflow and decommissions the
   * server; `command` stops the workflow and cancels the command on its host; false: it runs
   * to its end (a reboot, a stack change, a decommissioning), and a cancel answers 409.
   */
  cancel: 'provisioning' | 'command' | false;
  /** the run-command document's `action` for a kind that runs that document */
  documentAction?: string;
  /** a failure's message says what the command itself said on stderr (a validator's message, say) */
  explainsFailure?: boolean;
  /** settles what it changed once it ended, before its operation ends (the workflow tasks run it) */
  onEnd?(
    store: Store,
    ended: EndedCommand & Partial<Subject>,
    succeeded: boolean,
    ending: CommandEnding,
  ): Promise<void>;
  /**
   * Settles what it was changing when it was cancelled (whether the host got it is unknown).
   * The cancel route runs it, so only the servers context's own kinds may have one; another
   * context's cancellable kind changes nothing a cancel leaves half-made.
   */
  onCancel?(store: Store, operation: OperationItem): Promise<void>;
}

/** A declared kind, carrying the name its operations are recorded under. */
export type NamedOperationKind<Subject extends object = object> = OperationKind<Subject> & { name: string };

/** Every kind by name, as the root list merges them. */
export type OperationKindRegistry = Readonly<Record<string, NamedOperationKind>>;

/**
 * A context's kinds, each given its name: `defineOperationKinds<{ siteId: string }>()({...})`,
 * where the type names the subject its commands are started with.
 */
export const defineOperationKinds =
  <Subject extends object = object>() =>
  <const Kinds extends Record<string, OperationKind<Subject>>>(kinds: Kinds) =>
    Object.fromEntries(Object.entries(kinds).map(([name, kind]) => [name, { ...kind, name }])) as {
      [Name in keyof Kinds]: Kinds[Name] & { name: Name };
    };

/** Merges the contexts' kinds into one registry; a name declared twice is a wiring mistake. */
export function mergeOperationKinds(...lists: Record<string, NamedOperationKind>[]): OperationKindRegistry {
  const merged: Record<string, NamedOperationKind> = {};
  for (const list of lists) {
    for (const [name, kind] of Object.entries(list)) {
      if (name in merged) throw new Error(`The operation kind ${name} is declared twice`);
      merged[name] = kind;
    }
  }
  return merged;
}

const settleKey = async (store: Store, ended: EndedCommand & { keyId?: string }, succeeded: boolean) => {
  if (ended.keyId) await settleSshKey(store, { ...ended, keyId: ended.keyId }, succeeded);
};

/** The servers context's own kinds: a server's life, its commands, keys and stack. */
export const serverOperationKinds = defineOperationKinds<{ keyId: string }>()({
  'provision-server': { workflow: 'provision-server', cancel: 'provisioning' },
  'decommission-server': { workflow: 'decommission-server', cancel: false },
  'reboot-server': { workflow: 'reboot-server', cancel: false },
  'restart-service': {
    workflow: 'run-command',
    document: 'run-command',
    cancel: 'command',
    documentAction: 'restart-service',
  },
  'run-recipe': {
    workflow: 'run-command',
    document: 'run-command',
    cancel: 'command',
    documentAction: 'recipe',
  },
  'authorize-ssh-key': {
    workflow: 'run-command',
    document: 'run-command',
    cancel: 'command',
    documentAction: 'authorize-key',
    onEnd: settleKey,
    onCancel: settleSshKeyOfCancelled,
  },
  'revoke-ssh-key': {
    workflow: 'run-command',
    document: 'run-command',
    cancel: 'command',
    documentAction: 'revoke-key',
    onEnd: settleKey,
    onCancel: settleSshKeyOfCancelled,
  },
  // the bootstrap document again, with the grown stack; the server takes it only if it succeeded
  'change-stack': {
    workflow: 'run-command',
    document: 'bootstrap-server',
    cancel: false,
    onEnd: (store, ended, succeeded) =>
      endExclusive(store, ended, 'stackOperationId', succeeded && ended.stack ? { stack: ended.stack } : {}),
  },
});

/** The workflows that run one command on a host (they share the host-command states). */
export const commandWorkflows = ['run-command', 'backup-site', 'restore-site'] as const;
export type CommandWorkflow = (typeof commandWorkflows)[number];
