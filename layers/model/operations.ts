import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Store, StoredItem } from '../store/store';
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
  /** the Run Command command the step runs, whose output streams to the host command logs */
  command?: { id: string; instanceId: string };
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
  /**
   * The workflow running it and how a cancel takes it back, as its kind declared them when it
   * started (a command of any context's kind): what the cancel route needs without knowing
   * other contexts' kinds.
   */
  workflow?: string;
  cancel?: 'provisioning' | 'command' | false;
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

export type StepChanges = Record<string, Partial<StepRecord>>;

/**
 * Records step changes (and optionally the operation's own status) in one UpdateItem on
 * nested attributes, so concurrent writers to different steps never overwrite each other.
 * Setting a field to the value it already has is harmless: workflow tasks may run twice.
 * Nothing is written once the operation has ended (succeeded, failed or cancelled): the first
 * of two racing endings stands, and a task still in flight when its execution was stopped
 * cannot bring a cancelled operation back to life. Answers whether it wrote.
 */
export async function recordSteps(
  store: Store,
  ref: { tenantId: string; operationId: string },
  at: string,
  steps: StepChanges,
  operation: {
    status?: OperationStatus;
    error?: OperationItem['error'];
    result?: Record<string, unknown>;
  } = {},
): Promise<boolean> {
  const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':at': at };
  const sets = ['#updatedAt = :at'];
  let n = 0;
  for (const [step, fields] of Object.entries(steps)) {
    const s = `#s${n}`;
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      n += 1;
      // a name only once an expression uses it: DynamoDB refuses unused ones
      names['#steps'] = 'steps';
      names[s] = step;
      names[`#f${n}`] = field;
      values[`:v${n}`] = value;
      sets.push(`#steps.${s}.#f${n} = :v${n}`);
    }
    n += 1;
  }
  for (const [field, value] of Object.entries(operation)) {
    if (value === undefined) continue;
    n += 1;
    names[`#o${n}`] = field;
    values[`:o${n}`] = value;
    sets.push(`#o${n} = :o${n}`);
  }
  names['#status'] = 'status';
  values[':pending'] = 'pending';
  values[':running'] = 'running';
  try {
    await store.client.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: operationKeys.item(ref.tenantId, ref.operationId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk) AND #status IN (:pending, :running)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
