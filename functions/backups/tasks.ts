import type { TaskHandlers } from '../../layers/runtime/tasks';
import { sweepBackupSchedules } from './schedule';

export type BackupTaskEvent =
  /** the scheduled sweep (EventBridge Scheduler): the backups whose schedule is due start */
  { action: 'backupScheduleSweep'; input: { correlationId: string } };

export const backupTasks: TaskHandlers<BackupTaskEvent> = {
  backupScheduleSweep: (platform) => sweepBackupSchedules(platform),
};
