import { getPlatform, type Platform } from '../../runtime/platform';
import type { ContextDefinition } from '../context';
import { errors, type Middleware } from './state';

/**
 * Dispatches on API Gateway's resource path and method to the context's route, and settles
 * the platform the request runs on. An unknown route answers 404.
 */
export const matchRoute = (
  context: ContextDefinition,
  options: { platform?: () => Promise<Platform> } = {},
): Middleware => {
  const byKey = new Map(context.routes.map((r) => [`${r.method} ${r.path}`, r]));
  const platform = options.platform ?? getPlatform;
  return {
    before: async (request) => {
      const event = request.event;
      const spec = byKey.get(`${event.httpMethod} ${event.resource}`);
      if (!spec) throw errors.notFound('route');
      event.routed = { context, spec, platform: await platform(), checks: [] };
    },
  };
};
