import type { OperationItem } from '../../layers/model/operations';
import type { ServerStack } from '../../layers/model/stack';
import type { Platform } from '../../layers/runtime/platform';
import type { Store } from '../../layers/store/store';
import type { WorkflowName } from '../../step-functions/workflows';
import { settleBackup, settleRestore } from '../backups/settle';
import { settleDatabase, settleDatabaseRefresh, settleDatabaseUser } from '../databases/settle';
import { settleSite } from '../sites/settle';
import { endExclusive } from './server-operations';
import { settleSshKey, settleSshKeyOfCancelled } from './ssh-keys/service';

/** What a command's ending (or its cancel) is told: the command's ids and what it was run with. */
export interface EndedCommand {
  tenantId: string;
  serverId: string;
  operationId: string;
  kind: string;
  keyId?: string;
  siteId?: string;
  databaseId?: string;
  userId?: string;
  backupId?: string;
  stack?: ServerStack;
}

/** How a command ended, for its kind's settling: what the host printed, when, and the platform to act on. */
export interface CommandEnding {
  output?: Record<string, unknown> | undefined;
  at: string;
  platform: Platform;
}

/** Everything the servers context knows of one kind of operation on a server. */
export interface OperationKind {
  /** the workflow that runs it (and whose execution a cancel stops) */
  workflow: WorkflowName;
  /**
   * How a cancel takes it back: `provisioning` stops the workflow and decommissions the
   * server; `command` stops the workflow and cancels the command on its host; false: it runs
   * to its end (a reboot, a stack change, a decommissioning), and a cancel answers 409.
   */
  cancel: 'provisioning' | 'command' | false;
  /** the run-command document's `action` for a command that runs that document */
  documentAction?: string;
  /** settles what it changed once it ended, before its operation ends */
  onEnd?: (store: Store, ended: EndedCommand, succeeded: boolean, ending: CommandEnding) => Promise<void>;
  /** a failure's message says what the command itself said on stderr (a validator's message, say) */
  explainsFailure?: boolean;
  /** settles what it was changing when it was cancelled (whether the host got it is unknown) */
  onCancel?: (store: Store, operation: OperationItem) => Promise<void>;
}

const settleKey = async (store: Store, ended: EndedCommand, succeeded: boolean) => {
  if (ended.keyId) await settleSshKey(store, { ...ended, keyId: ended.keyId }, succeeded);
};

/** One registry of operation kinds, instead of lists of kinds in each place that asks. */
export const operationKinds = {
  'provision-server': { workflow: 'provision-server', cancel: 'provisioning' },
  'decommission-server': { workflow: 'decommission-server', cancel: false },
  'reboot-server': { workflow: 'reboot-server', cancel: false },
  'restart-service': { workflow: 'run-command', cancel: 'command', documentAction: 'restart-service' },
  'run-recipe': { workflow: 'run-command', cancel: 'command', documentAction: 'recipe' },
  'authorize-ssh-key': {
    workflow: 'run-command',
    cancel: 'command',
    documentAction: 'authorize-key',
    onEnd: settleKey,
    onCancel: settleSshKeyOfCancelled,
  },
  'revoke-ssh-key': {
    workflow: 'run-command',
    cancel: 'command',
    documentAction: 'revoke-key',
    onEnd: settleKey,
    onCancel: settleSshKeyOfCancelled,
  },
  // a site's rendered configuration, checked on the host before it is reloaded (functions/sites)
  'apply-site': { workflow: 'run-command', cancel: false, onEnd: settleSite, explainsFailure: true },
  'remove-site': { workflow: 'run-command', cancel: false, onEnd: settleSite, explainsFailure: true },
  // a one-click app into a site (the install-app document); the site takes what it brings
  'install-app': { workflow: 'run-command', cancel: false, onEnd: settleSite, explainsFailure: true },
  // a release of a site from its repository, or back to a kept one (the deploy-site document)
  'deploy-site': { workflow: 'run-command', cancel: false, onEnd: settleSite, explainsFailure: true },
  'rollback-site': { workflow: 'run-command', cancel: false, onEnd: settleSite, explainsFailure: true },
  // a site's certificate from an ACME directory (functions/sites/certificates): its own tasks settle the site
  'issue-certificate': { workflow: 'issue-certificate', cancel: false },
  // a server's databases and their users (the database document); each settles its record
  'create-database': { workflow: 'run-command', cancel: false, onEnd: settleDatabase, explainsFailure: true },
  'delete-database': { workflow: 'run-command', cancel: false, onEnd: settleDatabase, explainsFailure: true },
  'create-database-user': {
    workflow: 'run-command',
    cancel: false,
    onEnd: settleDatabaseUser,
    explainsFailure: true,
  },
  'update-database-user': {
    workflow: 'run-command',
    cancel: false,
    onEnd: settleDatabaseUser,
    explainsFailure: true,
  },
  'delete-database-user': {
    workflow: 'run-command',
    cancel: false,
    onEnd: settleDatabaseUser,
    explainsFailure: true,
  },
  // reads the engine's state and its databases' sizes
  'refresh-databases': {
    workflow: 'run-command',
    cancel: false,
    onEnd: settleDatabaseRefresh,
    explainsFailure: true,
  },
  // a site's files and databases streamed to the backups bucket (the backup-site document)
  'backup-site': { workflow: 'backup-site', cancel: false, onEnd: settleBackup, explainsFailure: true },
  // a site's files and databases back from one of its backups (the restore-site document)
  'restore-site': { workflow: 'restore-site', cancel: false, onEnd: settleRestore, explainsFailure: true },
  // reads the end of a site's log: nothing to settle, and a cancel stops it on the host
  'site-logs': { workflow: 'run-command', cancel: 'command' },
  // the bootstrap document again, with the grown stack; the server takes it only if it succeeded
  'change-stack': {
    workflow: 'run-command',
    cancel: false,
    onEnd: (store, ended, succeeded) =>
      endExclusive(store, ended, 'stackOperationId', succeeded && ended.stack ? { stack: ended.stack } : {}),
  },
} as const satisfies Record<string, OperationKind>;

export type OperationKindName = keyof typeof operationKinds;

/** The workflows that run one command on a host (they share the host-command states). */
export type CommandWorkflow = 'run-command' | 'backup-site' | 'restore-site';

/** The kinds that run one command on a host, through one of the command workflows. */
export type CommandKind = {
  [K in OperationKindName]: (typeof operationKinds)[K]['workflow'] extends CommandWorkflow ? K : never;
}[OperationKindName];

/** A kind read back from an operation record, if it is one of these. */
export const operationKindOf = (kind: string): OperationKind | undefined =>
  (operationKinds as Record<string, OperationKind>)[kind];
