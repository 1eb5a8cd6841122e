import { sfnClient } from '../../../layers/aws/sfn';
import type { Implementations } from '../../../layers/http/context-handler';
import { accepted, versionFromIfMatch } from '../../../layers/http/route';
import { toOperation } from '../../../layers/model/operations';
import { toServer } from '../../../layers/model/servers';
import { machineArn } from '../runs';
import type { decommissionRoutes } from './routes';
import { makeDeleteServer } from './service';

/** The decommission routes of the servers context. */
export const decommissionImplementations: Implementations<typeof decommissionRoutes> = {
  deleteServer: async ({ params, requestId, headers, platform }) => {
    const deleteServer = makeDeleteServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: machineArn(platform, 'decommission-server'),
    });
    const { server, operation } = await deleteServer(
      params.tenantId,
      params.serverId,
      requestId,
      versionFromIfMatch(headers('if-match')),
    );
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
};
