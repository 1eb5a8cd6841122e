import { sfnClient } from '../../layers/aws/clients';
import { errors } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { accepted, etag, ok } from '../../layers/http/route';
import { toOperation } from '../operations/entity';
import { makeDeleteServer } from './decommission';
import { type ServerItem, serverKeys, toServer } from './entity';
import {
  type CredentialsItem,
  credentialsKeys,
  deleteCredentials,
  saveCredentials,
  toCredentials,
} from './providers/credentials';
import { resolvePlacement } from './providers/placement';
import { makeCreateServer } from './service';
import { serverRoutes } from './spec';

export const handler = makeContextHandler(serverRoutes, {
  createServer: async ({ params, body, requestId, platform }) => {
    const createServer = makeCreateServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: platform.config.PROVISION_SERVER_STATE_MACHINE_ARN,
    });
    const placement = await resolvePlacement(platform.store, params.tenantId, body);
    const { server, operation } = await createServer(params.tenantId, { ...body, ...placement }, requestId);
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  deleteServer: async ({ params, requestId, platform }) => {
    const deleteServer = makeDeleteServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: platform.config.DECOMMISSION_SERVER_STATE_MACHINE_ARN,
    });
    const { server, operation } = await deleteServer(params.tenantId, params.serverId, requestId);
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  putProviderCredentials: async ({ params, body, platform }) =>
    ok(toCredentials(await saveCredentials(platform, params.tenantId, params.provider, body.token))),
  listProviderCredentials: async ({ params, query, platform }) =>
    listPage<CredentialsItem, ReturnType<typeof toCredentials>>(
      platform.store,
      {
        tenantId: params.tenantId,
        pk: credentialsKeys.item(params.tenantId, '').pk,
        skPrefix: credentialsKeys.prefix,
        scope: 'provider-credentials',
        query,
      },
      toCredentials,
    ),
  deleteProviderCredentials: async ({ params, platform }) => {
    await deleteCredentials(platform, params.tenantId, params.provider);
    return { status: 204 };
  },
  listServers: async ({ params, query, platform }) =>
    listPage<ServerItem, ReturnType<typeof toServer>>(
      platform.store,
      {
        tenantId: params.tenantId,
        pk: serverKeys.item(params.tenantId, '').pk,
        skPrefix: serverKeys.prefix,
        scope: 'servers',
        query,
      },
      toServer,
    ),
  getServer: async ({ params, platform }) => {
    const item = await platform.store.get<ServerItem>(serverKeys.item(params.tenantId, params.serverId));
    if (!item) throw errors.notFound('server');
    return ok(toServer(item), { ETag: etag(item.version) });
  },
});
