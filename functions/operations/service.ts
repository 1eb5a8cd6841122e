import {
  type OperationItem,
  operationKeys,
  recordSteps,
  type StepChanges,
  type StepRecord,
} from '../../layers/model/operations';
import type { Store } from '../../layers/store/store';

/** A new operation item with every step pending. */
export function newOperation(input: {
  tenantId: string;
  operationId: string;
  kind: string;
  targetId: string;
  steps: readonly string[];
  correlationId: string;
  now: string;
  workflow?: string;
  cancel?: OperationItem['cancel'];
}): OperationItem {
  return {
    ...operationKeys.item(input.tenantId, input.operationId),
    gsi1pk: operationKeys.byTarget(input.tenantId, input.targetId).gsi1pk,
    gsi1sk: `OP#${input.operationId}`,
    entity: 'operation',
    id: input.operationId,
    tenantId: input.tenantId,
    kind: input.kind,
    targetType: 'server',
    targetId: input.targetId,
    status: 'pending',
    stepOrder: [...input.steps],
    steps: Object.fromEntries(input.steps.map((name) => [name, { status: 'pending' }])),
    correlationId: input.correlationId,
    ...(input.workflow ? { workflow: input.workflow } : {}),
    ...(input.cancel !== undefined ? { cancel: input.cancel } : {}),
    createdAt: input.now,
    updatedAt: input.now,
    version: 1,
  };
}

/** Ends an operation whose workflow could not be started: nothing is left claiming to be in progress. */
export function recordNotStarted(
  store: Store,
  ref: { tenantId: string; operationId: string },
  at: string,
  workflow: string,
): Promise<boolean> {
  return recordSteps(
    store,
    ref,
    at,
    {},
    {
      status: 'failed',
      error: { code: 'workflow-not-started', message: `The ${workflow} workflow could not be started.` },
    },
  );
}

/**
 * The step changes that end an operation where it stands: the step that was running (the
 * first one still pending when none was) fails, or is cancelled, with the error and output;
 * the later ones are skipped.
 */
export function failedSteps(
  order: readonly string[],
  operation: OperationItem | undefined,
  at: string,
  error: { code: string; message: string },
  output?: Record<string, unknown>,
  ending: 'failed' | 'cancelled' = 'failed',
): StepChanges {
  const running = order.findIndex((name) => operation?.steps[name]?.status === 'running');
  const pending = order.findIndex((name) => (operation?.steps[name]?.status ?? 'pending') === 'pending');
  const failedIndex = Math.max(0, running >= 0 ? running : pending);
  const changes: StepChanges = {};
  order.forEach((name, index) => {
    if (index === failedIndex) {
      const step: Partial<StepRecord> = { status: ending, endedAt: at, error };
      if (!operation?.steps[name]?.startedAt) step.startedAt = at;
      if (output) step.output = output;
      changes[name] = step;
    } else if (index > failedIndex) {
      changes[name] = { status: 'skipped' };
    }
  });
  return changes;
}

/** A workflow's first task: its first step and the operation run from now. */
export const recordStarted = (
  store: Store,
  ref: { tenantId: string; operationId: string },
  at: string,
  step: string,
) => recordSteps(store, ref, at, { [step]: { status: 'running', startedAt: at } }, { status: 'running' });
