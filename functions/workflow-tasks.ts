import { metrics, withCorrelation } from '../layers/observability/logger';
import { getPlatform } from '../layers/runtime/platform';
import { type AnyTaskHandlers, mergeTasks, type TaskEventBase } from '../layers/runtime/tasks';
import { alertsTasks } from './alerts/tasks';
import { backupTasks } from './backups/tasks';
import { databaseTasks } from './databases/tasks';
import { metricsTasks } from './metrics/tasks';
import { operationKinds } from './operation-kinds';
import { makeServersTasks } from './servers/tasks';
import { certificateTasks } from './sites/certificates/tasks';
import { uptimeTasks } from './uptime/tasks';

/**
 * Every context's workflow tasks: the one line a context with workflows adds here (a test
 * checks that every action an ASL file names has its handler).
 */
export const workflowTasks: AnyTaskHandlers = mergeTasks(
  makeServersTasks(operationKinds) as AnyTaskHandlers,
  certificateTasks as AnyTaskHandlers,
  databaseTasks as AnyTaskHandlers,
  backupTasks as AnyTaskHandlers,
  metricsTasks as AnyTaskHandlers,
  uptimeTasks as AnyTaskHandlers,
  alertsTasks as AnyTaskHandlers,
);

/** The Lambda the workflows call for the steps that are more than one AWS API call. */
export async function handler(event: TaskEventBase): Promise<unknown> {
  withCorrelation(event.input.correlationId);
  const task = workflowTasks[event.action];
  if (!task) throw new Error(`No workflow task ${event.action}`);
  try {
    return await task(await getPlatform(), event as never);
  } finally {
    // a task's metrics (a certificate renewal that failed, say) go out with its invocation
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
