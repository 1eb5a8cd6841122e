import { errors } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { ok } from '../../layers/http/route';
import { type ServerItem, serverKeys } from '../servers/entity';
import { type OperationItem, operationKeys, toOperation } from './entity';
import { operationRoutes } from './spec';

export const handler = makeContextHandler(operationRoutes, {
  getOperation: async ({ params, platform }) => {
    const item = await platform.store.get<OperationItem>(
      operationKeys.item(params.tenantId, params.operationId),
    );
    if (!item) throw errors.notFound('operation');
    return ok(toOperation(item));
  },
  listServerOperations: async ({ params, query, platform }) => {
    const server = await platform.store.get<ServerItem>(serverKeys.item(params.tenantId, params.serverId));
    if (!server) throw errors.notFound('server');
    const page = await platform.store.query<OperationItem>({
      index: 'gsi1',
      pk: operationKeys.byTarget(params.tenantId, params.serverId).gsi1pk,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: `operations:${params.serverId}`,
    });
    return ok({ items: page.items.map(toOperation), nextCursor: page.nextCursor });
  },
});
