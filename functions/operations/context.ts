import { defineContext } from '../../layers/http/context';
import { operationRoutes } from './spec';

/** Operations: their steps, a tenant-wide list and their event streams. */
export const operationsContext = defineContext({
  name: 'operations',
  routes: operationRoutes,
  streaming: true,
  // a running command's output streams into its operation's events
  grants: ['host-command-logs'],
  idPrefixes: ['op'],
});
