import { defineContext } from '../../layers/http/context';
import { backupsRoutes } from './routes';

/** Backups of sites (files and databases) in the platform's bucket. */
export const backupsContext = defineContext({
  name: 'backups',
  routes: backupsRoutes,
  workflows: ['backup-site', 'restore-site'],
  // multipart uploads begun, parts presigned, download links, deletes; the tasks complete,
  // read back and abort them
  grants: ['backups-bucket'],
  // the schedule sweep starts backups and test restores
  taskGrants: ['backups-bucket', 'start-backup-workflows'],
  idPrefixes: ['bkp', 'rst', 'btg'],
});
