import { sfnClient } from '../../layers/aws/clients';
import { errors } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { accepted, etag, ok } from '../../layers/http/route';
import { toOperation } from '../operations/entity';
import { type ServerItem, serverKeys, toServer } from './entity';
import { makeCreateServer } from './service';
import { serverRoutes } from './spec';

export const handler = makeContextHandler(serverRoutes, {
  createServer: async ({ params, body, requestId, platform }) => {
    const createServer = makeCreateServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: platform.config.PROVISION_SERVER_STATE_MACHINE_ARN,
    });
    const { server, operation } = await createServer(params.tenantId, body, requestId);
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  listServers: async ({ params, query, platform }) => {
    const page = await platform.store.query<ServerItem>({
      pk: serverKeys.item(params.tenantId, '').pk,
      skPrefix: serverKeys.prefix,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: 'servers',
    });
    return ok({ items: page.items.map(toServer), nextCursor: page.nextCursor });
  },
  getServer: async ({ params, platform }) => {
    const item = await platform.store.get<ServerItem>(serverKeys.item(params.tenantId, params.serverId));
    if (!item) throw errors.notFound('server');
    return ok(toServer(item), { ETag: etag(item.version) });
  },
});
