import { defineContext } from '../../layers/http/context';
import { uptimeRoutes } from './spec';

/** Uptime checks of URLs, their probes and incidents; probed by the uptime sweep. */
export const uptimeContext = defineContext({
  name: 'uptime',
  routes: uptimeRoutes,
  // the sweep puts incidents' events on the bus
  taskGrants: ['put-events'],
  idPrefixes: ['upc', 'inc', 'upev'],
});
