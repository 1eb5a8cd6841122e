import { defineContext } from '../../layers/http/context';
import { tokenRoutes } from './spec';

/** API tokens. */
export const tokensContext = defineContext({
  name: 'tokens',
  routes: tokenRoutes,
  platformData:
    "API token records are keyed by token id outside the tenant's partition, for the authorizer to find.",
  grants: ['usage-keys'],
  idPrefixes: ['tok'],
});
