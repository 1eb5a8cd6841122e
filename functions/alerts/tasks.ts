import type { TaskHandlers } from '../../layers/runtime/tasks';
import { heartbeatSweep } from './heartbeat';

export type AlertsTaskEvent =
  /** every minute (EventBridge Scheduler): servers' silence observed for the rules that watch it */
  { action: 'alertHeartbeatSweep'; input: { correlationId: string } };

export const alertsTasks: TaskHandlers<AlertsTaskEvent> = {
  alertHeartbeatSweep: (platform) => heartbeatSweep(platform),
};
