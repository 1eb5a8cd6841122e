import type { TaskHandlers } from '../../layers/runtime/tasks';
import { uptimeSweep } from './sweep';

export type UptimeTaskEvent =
  /** every minute (EventBridge Scheduler): the uptime checks that are due, probed */
  { action: 'uptimeSweep'; input: { correlationId: string } };

export const uptimeTasks: TaskHandlers<UptimeTaskEvent> = {
  uptimeSweep: (platform) => uptimeSweep(platform),
};
