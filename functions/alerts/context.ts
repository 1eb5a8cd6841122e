import { defineContext } from '../../layers/http/context';
import { alertsRoutes } from './spec';

/** Alert rules, their states and history, silences; evaluated by the metrics aggregator. */
export const alertsContext = defineContext({
  name: 'alerts',
  routes: alertsRoutes,
  // the heartbeat sweep puts transitions on the bus
  taskGrants: ['put-events'],
  idPrefixes: ['alr', 'sil', 'alev'],
});
