import { type Middleware, routed } from './state';

/**
 * A context that touches only the data of the tenant in the path gets a store under that
 * tenant's credentials (invariant 3); the checks around it keep the function's own.
 */
export const tenantStore = (): Middleware => ({
  before: (request) => {
    const state = routed(request.event);
    const { context, platform, target } = state;
    state.store = target && context.data.scope === 'tenant' ? platform.storeFor(target) : platform.store;
  },
});
