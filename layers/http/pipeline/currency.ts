import { currencyDetails, currencyOf } from '../../auth/currency';
import { refusal } from '../../auth/permissions';
import { check, errors, type Middleware, routed } from './state';

/**
 * The caller as it is now, beside the work: a removed member, a revoked or expired API token or
 * an ended session answers 401, and a role changed since the token was issued (or the
 * authorizer's answer cached) is the role the route's permission is judged by.
 */
export const currency = (): Middleware => ({
  before: (request) => {
    const state = routed(request.event);
    const { principal, platform, spec } = state;
    if (!principal) return;
    state.checks.push(
      check(
        currencyOf(platform.store, principal, platform.clock.now()).then((current) => {
          if (!current.ok) throw errors.unauthorized(currencyDetails[current.reason]);
          const refused = refusal({ ...principal, role: current.role }, spec.permission);
          if (refused) throw errors.forbidden(refused);
        }),
      ),
    );
  },
});
