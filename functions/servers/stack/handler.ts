import type { Implementations } from '../../../layers/http/context-handler';
import { accepted } from '../../../layers/http/route';
import { toOperation } from '../../../layers/model/operations';
import { serverOperationKinds } from '../operation-kinds';
import { runCommand } from '../runs';
import type { stackRoutes } from './routes';
import { grownStack } from './service';

/** The stack routes of the servers context. */
export const stackImplementations: Implementations<typeof stackRoutes> = {
  changeStack: async ({ params, body, requestId, platform }) => {
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: serverOperationKinds['change-stack'],
      stack: (current) => grownStack(current, body),
    });
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
};
