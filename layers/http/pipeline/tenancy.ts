import { canActOn } from '../../auth/tenancy';
import { parsePart } from '../validation';
import { errors, type Middleware, routed } from './state';

/**
 * Validates the path and checks that a tenant it names is the caller's own or below it in the
 * tenant tree; anything else answers 404, exactly as a missing resource does.
 */
export const tenancy = (): Middleware => ({
  before: async (request) => {
    const state = routed(request.event);
    const { spec, principal, platform } = state;
    state.params = spec.params
      ? parsePart(spec.params, request.event.pathParameters ?? {}, 'path')
      : undefined;
    const params = state.params as Record<string, unknown> | undefined;
    const named = typeof params?.tenantId === 'string' ? params.tenantId : undefined;
    if (!named) return;
    if (principal && !(await canActOn(platform.store, principal.tenantId, named))) {
      throw errors.notFound('tenant');
    }
    state.target = named;
  },
});
