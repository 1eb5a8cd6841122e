import { defineContext } from '../../layers/http/context';
import { backupsRoutes } from './routes';

/** Backups of sites (files and databases) in the platform's bucket. */
export const backupsContext = defineContext({
  name: 'backups',
  routes: backupsRoutes,
  workflows: ['run-command'],
  // multipart uploads begun, parts presigned, download links, deletes; the tasks complete,
  // read back and abort them
  grants: ['backups-bucket'],
  // the schedule sweep starts backups (the run-command workflow)
  taskGrants: ['backups-bucket', 'start-run-command'],
  idPrefixes: ['bkp', 'rst'],
});
