import type { TaskHandlers } from '../../layers/runtime/tasks';
import type { Invocation } from '../servers/commands/invocation';
import { sweepBackupSchedules } from './schedule';
import {
  type BackupPart,
  type EndedBackupCommand,
  recordUploads,
  recordVerification,
  verifyPart,
} from './settle';
import { planTestRestore, recordTestRestore } from './test-restore';

/** The command input of a backup-site execution, as far as its steps read it. */
type BackupInput = EndedBackupCommand & { correlationId: string };

export type BackupTaskEvent =
  /** the scheduled sweep (EventBridge Scheduler): the backups whose schedule is due start */
  | { action: 'backupScheduleSweep'; input: { correlationId: string } }
  /** backup-site: the host streamed everything; complete the uploads */
  | { action: 'backupUploaded'; input: BackupInput; invocation: Invocation }
  /** backup-site: read one part back and compare it */
  | { action: 'backupVerifyPart'; input: BackupInput; part: BackupPart }
  /** backup-site: what reading the parts back found */
  | { action: 'backupVerified'; input: BackupInput; parts: { problem?: string }[] }
  /** backup-site: the restore-site document's parameters for a test restore of it */
  | { action: 'backupTestPlan'; input: BackupInput }
  /** backup-site: how its test restore ended */
  | {
      action: 'backupTestRestored';
      input: BackupInput;
      state: { testInvocation?: Invocation; testFailure?: { Error?: string; Cause?: string } };
    };

export const backupTasks: TaskHandlers<BackupTaskEvent> = {
  backupScheduleSweep: (platform) => sweepBackupSchedules(platform),
  backupUploaded: (platform, event) =>
    recordUploads(platform, event.input, event.invocation.StandardOutputContent ?? ''),
  backupVerifyPart: (platform, event) => verifyPart(platform, event.input, event.part),
  backupVerified: (platform, event) => recordVerification(platform, event.input, event.parts),
  backupTestPlan: (platform, event) => planTestRestore(platform, event.input),
  backupTestRestored: (platform, event) => recordTestRestore(platform, event.input, event.state),
};
