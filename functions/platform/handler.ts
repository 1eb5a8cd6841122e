import { AppError } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { ok } from '../../layers/http/route';
import { logger } from '../../layers/observability/logger';
import { routes } from '../api';
import { platformContext } from './context';
import { buildOpenApi } from './openapi';

/** Generated once per cold start; it depends only on the route table. */
const document = buildOpenApi(routes, { title: 'VIP Hosting Panel API', version: '1.0.0' });

export const handler = makeContextHandler(platformContext, {
  health: async ({ platform }) => {
    try {
      await platform.store.probe();
    } catch (cause) {
      logger.error('Health check failed', { error: cause as Error });
      throw new AppError('unavailable', 503, 'Service unavailable', { cause });
    }
    return ok({ status: 'ok', checks: { table: 'ok' } });
  },
  jwks: async ({ platform }) => ok(await platform.jwks(), { 'Cache-Control': 'public, max-age=300' }),
  openapi: async () => ok(document, { 'Cache-Control': 'public, max-age=300' }),
});
