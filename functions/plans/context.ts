import { defineContext } from '../../layers/http/context';
import { planRoutes } from './spec';

/** A reseller's plans and its customers' quotas. */
export const plansContext = defineContext({
  name: 'plans',
  routes: planRoutes,
  platformData: "A reseller's plans write its customers' counters and records, in their partitions.",
  idPrefixes: ['plan'],
});
