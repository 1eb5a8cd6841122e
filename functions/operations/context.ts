import { defineContext } from '../../layers/http/context';
import { operationRoutes } from './spec';

/** Operations: their steps, a tenant-wide list and their event streams. */
export const operationsContext = defineContext({
  name: 'operations',
  routes: operationRoutes,
  streaming: true,
  idPrefixes: ['op'],
});
