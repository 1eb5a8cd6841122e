import { defineContext } from '../../layers/http/context';
import { tenantRoutes } from './spec';

/** Tenants and a reseller's customers. */
export const tenantsContext = defineContext({
  name: 'tenants',
  routes: tenantRoutes,
  platformData: "A reseller acts on its customers' records, in their partitions, and walks the tenant tree.",
  idPrefixes: ['ten'],
  // a suspension puts the subtree's sites' suspension pages on their hosts
  workflows: ['run-command'],
  grants: ['site-environments'],
});
