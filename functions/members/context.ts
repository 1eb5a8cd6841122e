import { defineContext } from '../../layers/http/context';
import { memberRoutes } from './spec';

/** Members and invitations. */
export const membersContext = defineContext({
  name: 'members',
  routes: memberRoutes,
  platformData:
    "Invitations and email claims are keyed by token hash and email, outside any tenant's partition.",
  grants: ['send-email'],
  idPrefixes: ['inv'],
});
