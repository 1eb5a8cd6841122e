import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The values every definition's `${Name}` placeholders are filled with, per runtime: the
 * tasks Lambda, and each host document's name as `${<Document>DocumentName}`
 * (`${RunCommandDocumentName}` for run-command).
 */
export type WorkflowSubstitutions = {
  WorkflowTasksFunctionArn: string;
  /** the log group Run Command streams commands' output to */
  HostCommandLogGroupName: string;
} & Record<string, string>;

/** A host document's placeholder in the ASL: `run-command` → `RunCommandDocumentName`. */
export const documentPlaceholder = (name: HostDocumentName): string =>
  `${name.replace(/(^|-)([a-z])/g, (_, __: string, letter: string) => letter.toUpperCase())}DocumentName`;

/** The substitutions of every host document's placeholder, from a function naming each document. */
export const documentSubstitutions = (
  nameOf: (document: HostDocumentName) => string,
): Record<string, string> =>
  Object.fromEntries(hostDocumentNames.map((d) => [documentPlaceholder(d), nameOf(d)]));

/** What a workflow's definition reaches besides the tasks Lambda, so its role allows exactly that. */
export interface WorkflowDefinition {
  file: string;
  timeoutMinutes: number;
  /** the SSM documents it sends to hosts (SendCommand, GetCommandInvocation) */
  documents: readonly HostDocumentName[];
  /** it asks SSM whether a host's agent is online */
  describesInstances?: boolean;
  /** fragments (step-functions/fragments/NAME.json) whose states it shares with other workflows */
  includes?: readonly WorkflowFragment[];
}

/**
 * States several workflows share, written once: `host-command` sends one SSM command, marks its
 * step running and polls it to its end (the including machine says how often and how long in
 * `InitCommandWait`, and what follows in `CommandSucceeded`).
 */
export type WorkflowFragment = 'host-command';

/**
 * The state machines, each an ASL file in this folder; the CDK app and the local runtime
 * iterate this list, so a new workflow is its file and one entry here.
 */
export const workflows = {
  'provision-server': {
    file: 'provision-server.asl.json',
    timeoutMinutes: 60,
    // the bootstrap, then the run-command document's health check
    documents: ['bootstrap-server', 'run-command'],
    describesInstances: true,
  },
  // every step is more than one call and records itself: only the tasks Lambda
  'decommission-server': { file: 'decommission-server.asl.json', timeoutMinutes: 30, documents: [] },
  // a stack change runs the bootstrap document again; a site's change runs the site document,
  // a one-click app the install-app document, a database change the database document
  'run-command': {
    file: 'run-command.asl.json',
    timeoutMinutes: 30,
    documents: ['run-command', 'bootstrap-server', 'site', 'install-app', 'deploy-site', 'database'],
    includes: ['host-command'],
  },
  // a site's backup: the host streams it, then the uploads are completed and read back part by part
  'backup-site': {
    file: 'backup-site.asl.json',
    timeoutMinutes: 12 * 60 + 30,
    // and the restore-site document, for a test restore of what it made
    documents: ['backup-site', 'restore-site'],
    includes: ['host-command'],
  },
  // a site's restore: the host fetches and checks everything before the site switches
  'restore-site': {
    file: 'restore-site.asl.json',
    timeoutMinutes: 6 * 60 + 30,
    documents: ['restore-site'],
    includes: ['host-command'],
  },
  // a site's certificate from an ACME directory: the site document serves the challenges, then installs it
  'issue-certificate': { file: 'issue-certificate.asl.json', timeoutMinutes: 30, documents: ['site'] },
  // a reboot waits for the host to come back, then checks its health
  'reboot-server': { file: 'reboot-server.asl.json', timeoutMinutes: 45, documents: ['run-command'] },
} as const satisfies Record<string, WorkflowDefinition>;

export type WorkflowName = keyof typeof workflows;

/**
 * Tasks the workflow tasks function runs on a schedule rather than from a state machine:
 * EventBridge Scheduler in AWS (infra/stacks/workflows-stack.ts), a timer on a local runtime.
 */
export const scheduledTasks = {
  // renews sites' ACME certificates 30 days before they expire; warns of expiring ones
  'certificate-sweep': {
    action: 'certificateSweep',
    everyMinutes: 360,
    description: "Renews sites' ACME certificates before they expire; warns of expiring ones",
  },
  // reads every database engine's state and its databases' sizes
  'database-refresh': {
    action: 'databaseRefreshSweep',
    everyMinutes: 360,
    description: "Reads servers' database engines and their databases' sizes",
  },
  // folds each closed minute of metrics into its hour and day, exactly once (a server's closed
  // minutes of an hour together, so the hour and day are written once for five minutes)
  'rollup-fold': {
    action: 'rollupFoldSweep',
    everyMinutes: 5,
    description: 'Folds closed minutes of metrics into their hours and days',
  },
  // observes how long servers have been silent, for the alert rules that watch it
  'alert-heartbeat': {
    action: 'alertHeartbeatSweep',
    everyMinutes: 1,
    description: "Observes servers' silence for the alert rules that watch it",
  },
  // probes the uptime checks that are due
  'uptime-sweep': {
    action: 'uptimeSweep',
    everyMinutes: 1,
    description: 'Probes the uptime checks that are due',
  },
  // starts the backups whose policy's schedule is due
  'backup-schedule': {
    action: 'backupScheduleSweep',
    everyMinutes: 5,
    description: "Starts sites' scheduled backups that are due",
  },
} as const satisfies Record<string, { action: string; everyMinutes: number; description: string }>;

export const workflowNames = Object.keys(workflows) as WorkflowName[];

/**
 * The SSM Command documents the workflows run on hosts; the key is the document's name suffix
 * (`vip-<stage>-<key>`). The CDK app and the local runtime iterate this list.
 */
export const hostDocuments = {
  'bootstrap-server': 'documents/bootstrap-server.yaml',
  'run-command': 'documents/run-command.yaml',
  site: 'documents/site.yaml',
  'install-app': 'documents/install-app.yaml',
  'deploy-site': 'documents/deploy-site.yaml',
  database: 'documents/database.yaml',
  'backup-site': 'documents/backup-site.yaml',
  'restore-site': 'documents/restore-site.yaml',
} as const;

export type HostDocumentName = keyof typeof hostDocuments;

export const hostDocumentNames = Object.keys(hostDocuments) as HostDocumentName[];

const workflowPath = (name: WorkflowName): string => join(here, workflows[name].file);

/**
 * The raw ASL text with its `${...}` placeholders, as the CDK passes it to DefinitionBody with
 * substitutions: the workflow's file with the states of the fragments it includes (its own
 * states may not reuse a fragment's names).
 */
export function readWorkflow(name: WorkflowName): string {
  const definition: WorkflowDefinition = workflows[name];
  const text = readFileSync(workflowPath(name), 'utf8');
  if (!definition.includes) return text;
  const asl = JSON.parse(text) as { States: Record<string, unknown> };
  for (const fragment of definition.includes) {
    const { States } = JSON.parse(readFileSync(join(here, 'fragments', `${fragment}.json`), 'utf8')) as {
      States: Record<string, unknown>;
    };
    for (const state of Object.keys(States)) {
      if (state in asl.States)
        throw new Error(`${name}: the state ${state} is also in the fragment ${fragment}`);
    }
    asl.States = { ...States, ...asl.States };
  }
  return `${JSON.stringify(asl, null, 2)}\n`;
}

/** The ASL with placeholders filled in; a placeholder without a value is an error, never a silent blank. */
export function loadWorkflow(name: WorkflowName, values: WorkflowSubstitutions): Record<string, unknown> {
  const text = readWorkflow(name).replace(/\$\{([A-Za-z0-9]+)\}/g, (_, key: string) => {
    const value = (values as unknown as Record<string, string | undefined>)[key];
    if (value === undefined) throw new Error(`${name}: no value for \${${key}}`);
    return value;
  });
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * A host document's content, parsed from YAML. A line `# vip-include: FILE` in a script is
 * replaced by step-functions/documents/fragments/FILE at its indentation, so the shell functions
 * several documents need (unseal) are written once; SSM gets each document whole.
 */
export function loadHostDocument(name: HostDocumentName): Record<string, unknown> {
  const text = readFileSync(join(here, hostDocuments[name]), 'utf8').replace(
    /^( *)# vip-include: ([a-z0-9-]+\.sh)$/gm,
    (_, indent: string, file: string) =>
      readFileSync(join(here, 'documents', 'fragments', file), 'utf8')
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => (line ? `${indent}${line}` : line))
        .join('\n'),
  );
  return parse(text) as Record<string, unknown>;
}
