import { refusal } from '../../auth/permissions';
import { errors, type Middleware, routed } from './state';

/** The route's permission: the role must allow it, a token carry it as a scope, a login-as session not be barred from it. */
export const permission = (): Middleware => ({
  before: (request) => {
    const { principal, spec } = routed(request.event);
    const refused = principal ? refusal(principal, spec.permission) : undefined;
    if (refused) throw errors.forbidden(refused);
  },
});
