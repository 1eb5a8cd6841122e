import { route } from '../../../layers/http/route';
import { operationSchema } from '../../operations/spec';
import { prefixedId, tenantParams } from '../../shared-schemas';
import { problems, serverSchema } from '../spec';

export const cancelRoutes = [
  route({
    operationId: 'cancelOperation',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/operations/{operationId}/cancel',
    context: 'servers',
    idempotent: true,
    auth: 'user',
    permission: 'servers:write',
    summary:
      'Cancel a provisioning (its workflow stops, the operation ends cancelled and the server is decommissioned: 202 with that operation) or a command (its workflow stops and its SSM command is cancelled on the host: 200 with the cancelled operation)',
    tags: ['operations'],
    params: tenantParams.extend({ operationId: prefixedId('op') }),
    responses: {
      200: { description: 'The command is cancelled', schema: operationSchema },
      202: {
        description: 'Cancelled; decommissioning started',
        schema: serverSchema.extend({ operation: operationSchema }),
      },
      ...problems,
      409: { description: 'The operation is a reboot or a decommissioning, or has ended' },
    },
  }),
] as const;
