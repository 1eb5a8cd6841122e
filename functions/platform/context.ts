import { defineContext } from '../../layers/http/context';
import { platformRoutes } from './spec';

/** Health, the OpenAPI document and the signing keys. */
export const platformContext = defineContext({
  name: 'platform',
  routes: platformRoutes,
  platformData:
    'Public routes with no tenant in the path: health, the OpenAPI document and the signing keys.',
});
