import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { workflowTasks } from '../functions/workflow-tasks';
import { makeTaskResolver, taskStates } from '../scripts/local/task-resources';
import {
  documentSubstitutions,
  hostDocuments,
  loadHostDocument,
  loadWorkflow,
  readWorkflow,
  scheduledTasks,
  workflows,
} from './workflows';

const require = createRequire(import.meta.url);
const aslValidator = require('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (sep?: string) => string;
};

const substitutions = {
  WorkflowTasksFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:vip-test-workflow-tasks',
  ...documentSubstitutions((name) => `vip-test-${name}`),
  HostCommandLogGroupName: '/vip/test/host-commands',
};

/** The `action` of every state that calls the tasks Lambda, at any depth of a definition. */
function taskActions(node: unknown): string[] {
  if (!node || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  const own =
    record.Resource === substitutions.WorkflowTasksFunctionArn &&
    typeof (record.Parameters as { action?: unknown } | undefined)?.action === 'string'
      ? [(record.Parameters as { action: string }).action]
      : [];
  return [...own, ...Object.values(record).flatMap(taskActions)];
}

describe('Workflow tasks', () => {
  it('handles exactly the actions the ASL files and the schedules call', () => {
    const called = new Set([
      ...(Object.keys(workflows) as (keyof typeof workflows)[]).flatMap((name) =>
        taskActions(loadWorkflow(name, substitutions)),
      ),
      ...Object.values(scheduledTasks).map((task) => task.action),
    ]);
    expect([...called].sort()).toEqual(Object.keys(workflowTasks).sort());
  });
});

describe('Step Functions definitions', () => {
  for (const name of Object.keys(workflows) as (keyof typeof workflows)[]) {
    it(`${name} is valid ASL once its substitutions are filled`, () => {
      const result = aslValidator(loadWorkflow(name, substitutions));
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    });

    it(`${name} names only placeholders both runtimes fill`, () => {
      const placeholders = [...readWorkflow(name).matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]);
      expect(placeholders.length).toBeGreaterThan(0);
      for (const placeholder of placeholders) expect(Object.keys(substitutions)).toContain(placeholder);
    });

    it(`${name} has a local implementation for every Task resource`, () => {
      const resolve = makeTaskResolver({
        lambdas: { 'vip-test-workflow-tasks': async () => ({}) },
        clients: { dynamodb: {} as never, ssm: {} as never },
      });
      const definition = loadWorkflow(name, substitutions) as never;
      const tasks = taskStates(definition);
      expect(tasks.length).toBeGreaterThan(0);
      for (const [, resource] of tasks) expect(typeof resolve(resource)).toBe('function');
    });

    it(`${name} calls only workflow tasks some context handles`, () => {
      const called = taskActions(loadWorkflow(name, substitutions));
      expect(called.length).toBeGreaterThan(0);
      for (const action of called) expect(Object.keys(workflowTasks), action).toContain(action);
    });

    it(`${name} catches every Task failure into compensation`, () => {
      const definition = loadWorkflow(name, substitutions) as {
        States: Record<string, Record<string, unknown>>;
      };
      for (const [state, spec] of Object.entries(definition.States)) {
        if (spec.Type !== 'Task' || state === 'RecordFailure') continue;
        expect(spec.Catch, state).toEqual([
          expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' }),
        ]);
      }
    });
  }

  it('refuses to load a definition with a placeholder left empty', () => {
    expect(() =>
      loadWorkflow('provision-server', { ...substitutions, BootstrapServerDocumentName: undefined } as never),
    ).toThrow(/BootstrapServerDocumentName/);
  });
});

describe('Host documents', () => {
  for (const name of Object.keys(hostDocuments) as (keyof typeof hostDocuments)[]) {
    it(`${name} is an SSM Command document of schema 2.2 running shell scripts`, () => {
      const document = loadHostDocument(name) as {
        schemaVersion: string;
        parameters: Record<string, { type: string }>;
        mainSteps: { action: string; inputs: { runCommand: string[] } }[];
      };
      expect(document.schemaVersion).toBe('2.2');
      for (const step of document.mainSteps) {
        expect(step.action).toBe('aws:runShellScript');
        const used = [...step.inputs.runCommand.join('\n').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
        for (const parameter of used) expect(document.parameters).toHaveProperty(parameter as string);
      }
    });

    it(`${name} passes shellcheck with its parameters filled in`, () => {
      const document = loadHostDocument(name) as {
        mainSteps: { inputs: { runCommand: string[] } }[];
      };
      for (const step of document.mainSteps) {
        // SSM puts each parameter's value where {{ name }} stands; a plain word stands in for it here.
        const script = step.inputs.runCommand.join('\n').replace(/\{\{\s*(\w+)\s*\}\}/g, 'value');
        const result = spawnSync('shellcheck', ['--shell=bash', '--severity=style', '-'], {
          input: script,
          encoding: 'utf8',
        });
        expect(result.error, 'shellcheck must be installed (.ci/run installs it)').toBeUndefined();
        expect(result.stdout, result.stdout).toBe('');
        expect(result.status).toBe(0);
      }
    });
  }
});
