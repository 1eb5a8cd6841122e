import { defineContext } from '../../layers/http/context';
import { authRoutes } from './spec';

/** Sign-up, sign-in, sessions, passwords and two-factor authentication. */
export const authContext = defineContext({
  name: 'auth',
  routes: authRoutes,
  platformData:
    'Sign-up, sign-in and refresh find users by email and token hashes before any tenant is known.',
  grants: ['send-email'],
  idPrefixes: ['usr', 'rt'],
});
