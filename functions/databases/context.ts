import { defineContext } from '../../layers/http/context';
import { databasesRoutes } from './routes';

/** Databases and database users on servers' engines (MariaDB, MySQL, PostgreSQL). */
export const databasesContext = defineContext({
  name: 'databases',
  routes: databasesRoutes,
  workflows: ['run-command'],
  // users' passwords, one SecureString per user; its tasks keep a rotated one and delete a dropped user's
  // a linked site's environment carries a database's credentials
  grants: ['database-passwords', 'site-environments'],
  // the scheduled refresh starts the run-command workflow on each server with databases
  taskGrants: ['database-passwords', 'start-run-command', 'site-environments'],
  idPrefixes: ['dbs', 'dbu'],
});
