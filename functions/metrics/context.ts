import { defineContext } from '../../layers/http/context';
import { metricsRoutes } from './spec';

/** Servers' metrics and the dashboard. */
export const metricsContext = defineContext({
  name: 'metrics',
  routes: metricsRoutes,
});
