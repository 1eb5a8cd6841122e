import { sfnClient } from '../../../layers/aws/sfn';
import { errors } from '../../../layers/errors/app-error';
import { updateIfMatch } from '../../../layers/http/conditional';
import type { Implementations } from '../../../layers/http/context-handler';
import { listPage } from '../../../layers/http/list';
import { accepted, etag, ok } from '../../../layers/http/route';
import { toOperation } from '../../../layers/model/operations';
import { type ServerItem, serverKeys, toServer } from '../../../layers/model/servers';
import { resolvePlacement } from '../providers/placement';
import { machineArn } from '../runs';
import type { provisioningRoutes } from './routes';
import { makeCreateServer } from './service';

/** The provisioning routes of the servers context. */
export const provisioningImplementations: Implementations<typeof provisioningRoutes> = {
  createServer: async ({ params, body, requestId, platform }) => {
    const createServer = makeCreateServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: machineArn(platform, 'provision-server'),
    });
    const placement = await resolvePlacement(platform.store, params.tenantId, body);
    const { server, operation } = await createServer(params.tenantId, { ...body, ...placement }, requestId);
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  listServers: async ({ params, query, platform }) => {
    return listPage<ServerItem, ReturnType<typeof toServer>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: serverKeys.prefix,
        scope: `servers?${query.status ?? ''}&${query.provider ?? ''}&${query.tag ?? ''}`,
        query,
        filter: { equals: { status: query.status, provider: query.provider }, contains: { tags: query.tag } },
      },
      toServer,
    );
  },
  updateServer: async ({ params, body, headers, platform }) => {
    const item = await platform.store.get<ServerItem>(
      serverKeys.item(params.tenantId, params.serverId),
      true,
    );
    if (!item) throw errors.notFound('server');
    const updated = await updateIfMatch<ServerItem>(
      platform.store,
      serverKeys.item(params.tenantId, params.serverId),
      {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.tags !== undefined ? { tags: body.tags } : {}),
        updatedAt: platform.clock.now().toISOString(),
      },
      headers('if-match'),
      item.version,
    );
    return ok(toServer(updated), { ETag: etag(updated.version) });
  },
  getServer: async ({ params, platform }) => {
    const item = await platform.store.get<ServerItem>(serverKeys.item(params.tenantId, params.serverId));
    if (!item) throw errors.notFound('server');
    return ok(toServer(item), { ETag: etag(item.version) });
  },
};
