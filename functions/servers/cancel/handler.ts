import { sfnClient } from '../../../layers/aws/sfn';
import { ssmClient } from '../../../layers/aws/ssm';
import { documentName } from '../../../layers/config/resources';
import type { Implementations } from '../../../layers/http/context-handler';
import { accepted, ok } from '../../../layers/http/route';
import { toOperation } from '../../../layers/model/operations';
import { toServer } from '../../../layers/model/servers';
import { machineArn } from '../runs';
import type { cancelRoutes } from './routes';
import { makeCancelOperation } from './service';

/** The cancel routes of the servers context. */
export const cancelImplementations: Implementations<typeof cancelRoutes> = {
  cancelOperation: async ({ params, principal, requestId, platform }) => {
    const cancel = makeCancelOperation({
      ...platform,
      sfn: sfnClient(),
      ssm: ssmClient(),
      stateMachineArn: machineArn(platform, 'decommission-server'),
      stateMachineArnPrefix: platform.config.STATE_MACHINE_ARN_PREFIX,
      runCommandDocument: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'run-command'),
    });
    const cancelled = await cancel(params.tenantId, params.operationId, principal, requestId);
    if (!cancelled.decommissioning) return ok(toOperation(cancelled.operation));
    const { server, operation } = cancelled;
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
};
