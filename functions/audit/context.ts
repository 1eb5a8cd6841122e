import { defineContext } from '../../layers/http/context';
import { auditRoutes } from './spec';

/** The audit log. */
export const auditContext = defineContext({
  name: 'audit',
  routes: auditRoutes,
});
