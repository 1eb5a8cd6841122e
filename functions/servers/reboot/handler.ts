import { sfnClient } from '../../../layers/aws/sfn';
import type { Implementations } from '../../../layers/http/context-handler';
import { accepted } from '../../../layers/http/route';
import { toOperation } from '../../../layers/model/operations';
import { machineArn } from '../runs';
import type { rebootRoutes } from './routes';
import { makeRebootServer } from './service';

/** The reboot routes of the servers context. */
export const rebootImplementations: Implementations<typeof rebootRoutes> = {
  rebootServer: async ({ params, body, requestId, platform }) => {
    const reboot = makeRebootServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: machineArn(platform, 'reboot-server'),
    });
    const operation = await reboot(params.tenantId, params.serverId, requestId, body?.mode ?? 'graceful');
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
};
