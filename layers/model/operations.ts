import type { StoredItem } from '../store/store';
import { tenantPartition, tenantSubPartition } from './keys';

export const operationStatuses = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type OperationStatus = (typeof operationStatuses)[number];
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

export interface StepRecord {
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  output?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export interface OperationItem extends StoredItem {
  entity: 'operation';
  id: string;
  tenantId: string;
  kind: string;
  targetType: 'server';
  targetId: string;
  status: OperationStatus;
  stepOrder: string[];
  steps: Record<string, StepRecord>;
  error?: { code: string; message: string };
  result?: Record<string, unknown>;
  correlationId: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  endedAt?: string;
}

/** Operations live in the tenant's partition; gsi1 lists them per target, newest last. */
export const operationKeys = {
  item: (tenantId: string, operationId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `OP#${operationId}`,
  }),
  byTarget: (tenantId: string, targetId: string) => ({
    gsi1pk: tenantSubPartition(tenantId, 'TARGET', targetId),
  }),
  prefix: 'OP#',
};

/** The one step of a command operation (a service restart, a recipe run). */
export const commandStep = 'run';

const HEAD_TAIL = 2048;

/** Long command output is shown as its head and tail, the way an operator reads a log. */
export function headAndTail(text: unknown): { head: string; tail: string; truncated: boolean } | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.length <= HEAD_TAIL * 2) return { head: text, tail: '', truncated: false };
  return { head: text.slice(0, HEAD_TAIL), tail: text.slice(-HEAD_TAIL), truncated: true };
}

/** The operation as the API shows it: steps in workflow order, command output cut to head and tail. */
export function toOperation(item: OperationItem) {
  return {
    id: item.id,
    kind: item.kind,
    status: item.status,
    target: { type: item.targetType, id: item.targetId },
    steps: item.stepOrder.map((name) => {
      const step = item.steps[name] ?? { status: 'pending' as const };
      const output = step.output ? renderOutput(step.output) : undefined;
      return {
        name,
        status: step.status,
        startedAt: step.startedAt ?? null,
        endedAt: step.endedAt ?? null,
        ...(output ? { output } : {}),
        ...(step.error ? { error: step.error } : {}),
      };
    }),
    error: item.error ?? null,
    result: item.result ?? null,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

function renderOutput(output: Record<string, unknown>) {
  const { stdout, stderr, ...rest } = output;
  return {
    ...rest,
    ...(stdout !== undefined ? { stdout: headAndTail(stdout) } : {}),
    ...(stderr !== undefined ? { stderr: headAndTail(stderr) } : {}),
  };
}
