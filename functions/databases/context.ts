import { defineContext } from '../../layers/http/context';
import { databasesRoutes } from './routes';

/** Databases and database users on servers' engines (MariaDB, MySQL, PostgreSQL). */
export const databasesContext = defineContext({
  name: 'databases',
  routes: databasesRoutes,
  workflows: ['run-command'],
  // users' passwords, one SecureString per user; its tasks keep a rotated one and delete a dropped user's
  grants: ['database-passwords'],
  taskGrants: ['database-passwords'],
  idPrefixes: ['dbs', 'dbu'],
});
