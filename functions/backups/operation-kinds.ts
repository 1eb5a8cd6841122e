import { defineOperationKinds } from '../servers/operation-kinds';
import { settleBackup, settleRestore } from './settle';

/** The backups context's operations on a server: a site's backup and its restore, each with its own workflow. */
export const backupOperationKinds = defineOperationKinds<{
  siteId: string;
  backupId: string;
  testRestore: boolean;
}>()({
  // a site's files and databases streamed to the backups storage
  'backup-site': {
    workflow: 'backup-site',
    document: 'backup-site',
    cancel: false,
    onEnd: settleBackup,
    explainsFailure: true,
  },
  // a site's files and databases back from one of its backups
  'restore-site': {
    workflow: 'restore-site',
    document: 'restore-site',
    cancel: false,
    onEnd: settleRestore,
    explainsFailure: true,
  },
});
