import { principalCodec } from '../../auth/tokens';
import { errors, type Middleware, routed } from './state';

/** Reads the principal the authorizer put in the request context; on a signed-in route, absent or malformed is 401. */
export const principal = (): Middleware => ({
  before: (request) => {
    const state = routed(request.event);
    if (state.spec.auth !== 'user') return;
    const found = principalCodec.decode(request.event.requestContext.authorizer);
    if (!found) throw errors.unauthorized();
    state.principal = found;
  },
});
