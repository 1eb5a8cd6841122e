import type { Implementations } from '../../../layers/http/context-handler';
import { accepted } from '../../../layers/http/route';
import { toOperation } from '../../../layers/model/operations';
import { serverOperationKinds } from '../operation-kinds';
import { runCommand } from '../runs';
import type { commandsRoutes } from './routes';

/** The commands routes of the servers context. */
export const commandsImplementations: Implementations<typeof commandsRoutes> = {
  restartService: async ({ params, requestId, platform }) => {
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: serverOperationKinds['restart-service'],
      service: params.service,
    });
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
  runRecipe: async ({ params, body, requestId, platform }) => {
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: serverOperationKinds['run-recipe'],
      script: body.script,
    });
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
};
