import { defineContext } from '../../layers/http/context';
import { statusPagesRoutes } from './spec';

/** Tenants' public status pages. */
export const statusPagesContext = defineContext({
  name: 'status-pages',
  routes: statusPagesRoutes,
  platformData:
    'A public route with no principal: it reads the published uptime checks of the tenant named in the path, and nothing else.',
});
