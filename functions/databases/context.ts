import { defineContext } from '../../layers/http/context';
import { databasesRoutes } from './routes';

/** Databases and database users on servers' engines (MariaDB, MySQL, PostgreSQL). */
export const databasesContext = defineContext({
  name: 'databases',
  routes: databasesRoutes,
  workflows: ['run-command'],
  // users' passwords, one SecureString per user; its tasks keep a rotated one and delete a dropped user's
  grants: ['database-passwords'],
  // the scheduled refresh starts the run-command workflow on each server with databases
  taskGrants: ['database-passwords', 'start-run-command'],
  idPrefixes: ['dbs', 'dbu'],
});
