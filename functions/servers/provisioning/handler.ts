import { sfnClient } from '../../../layers/aws/clients';
import { errors } from '../../../layers/errors/app-error';
import { updateIfMatch } from '../../../layers/http/conditional';
import type { Implementations } from '../../../layers/http/context-handler';
import { accepted, etag, ok } from '../../../layers/http/route';
import { tenantPartition } from '../../../layers/model/keys';
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
    const page = await platform.store.query<ServerItem>({
      pk: tenantPartition(params.tenantId),
      skPrefix: serverKeys.prefix,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      // a cursor works only with the filters it was made with
      scope: `servers?${query.status ?? ''}&${query.provider ?? ''}&${query.tag ?? ''}`,
      filter: { equals: { status: query.status, provider: query.provider }, contains: { tags: query.tag } },
    });
    return ok({ items: page.items.map(toServer), nextCursor: page.nextCursor });
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
