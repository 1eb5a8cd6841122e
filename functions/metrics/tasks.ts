import type { TaskHandlers } from '../../layers/runtime/tasks';
import { foldClosedMinutes } from './fold';

export type MetricsTaskEvent =
  /** every minute (EventBridge Scheduler): closed minutes folded into their hours and days */
  { action: 'rollupFoldSweep'; input: { correlationId: string } };

export const metricsTasks: TaskHandlers<MetricsTaskEvent> = {
  rollupFoldSweep: (platform) => foldClosedMinutes(platform),
};
