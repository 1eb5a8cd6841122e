import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));

/** The values every definition's `${Name}` placeholders are filled with, per runtime. */
export interface WorkflowSubstitutions {
  TableName: string;
  WorkflowTasksFunctionArn: string;
  BootstrapDocumentName: string;
  RunCommandDocumentName: string;
}

/** The state machines, each an ASL file in this folder; the CDK app and the local runtime load them from here. */
export const workflows = {
  'provision-server': 'provision-server.asl.json',
  'decommission-server': 'decommission-server.asl.json',
  'run-command': 'run-command.asl.json',
  'reboot-server': 'reboot-server.asl.json',
} as const;

export type WorkflowName = keyof typeof workflows;

/** The SSM Command documents the workflows run on hosts; the key is the document's name suffix. */
export const hostDocuments = {
  'bootstrap-server': 'documents/bootstrap-server.yaml',
  'run-command': 'documents/run-command.yaml',
} as const;

export type HostDocumentName = keyof typeof hostDocuments;

const workflowPath = (name: WorkflowName): string => join(here, workflows[name]);

/** The raw ASL text with its `${...}` placeholders, as the CDK passes it to DefinitionBody with substitutions. */
export const readWorkflow = (name: WorkflowName): string => readFileSync(workflowPath(name), 'utf8');

/** The ASL with placeholders filled in; a placeholder without a value is an error, never a silent blank. */
export function loadWorkflow(name: WorkflowName, values: WorkflowSubstitutions): Record<string, unknown> {
  const text = readWorkflow(name).replace(/\$\{([A-Za-z0-9]+)\}/g, (_, key: string) => {
    const value = (values as unknown as Record<string, string | undefined>)[key];
    if (value === undefined) throw new Error(`${name}: no value for \${${key}}`);
    return value;
  });
  return JSON.parse(text) as Record<string, unknown>;
}

/** A host document's content, parsed from YAML. */
export function loadHostDocument(name: HostDocumentName): Record<string, unknown> {
  return parse(readFileSync(join(here, hostDocuments[name]), 'utf8')) as Record<string, unknown>;
}
